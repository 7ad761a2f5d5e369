"""Trust policies bind to unique ids, as AWS's do.

When a trust policy naming an IAM user or role is saved, AWS checks the principal exists and "transforms the ARN
to a unique principal ID"; it shows the ARN again when the policy is read while the principal exists, and the bare
id (`AIDA…`, `AROA…`) once it is deleted: "The policy no longer applies, even if you recreate the user or role"
(IAM User Guide, role trust policy examples). A renamed user stays trusted and is shown by its new name and path
("Any resource or role policies that refer to the user as a principal ... are automatically updated": IAM User
Guide, renaming an IAM user). Why: otherwise a role trusting `user/deployer` would trust whoever is next created
under that name.

The stored document stays as written; the role keeps (ARN as written, unique id) pairs beside it. Authorization
compiles the document with those ids in place of the ARNs (`policy.bind_principals`), and every view of a role
shows the document as AWS does (`shown`). Principals of another account are bound when that account is held here
too; an account Gatehouse does not hold cannot be checked, and its ARNs are kept (and matched) as written.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gatehouse.errors import MalformedPolicyDocument
from gatehouse.model import Role
from gatehouse.policy import PolicyKind, parse
from gatehouse.storage.repository import UnitOfWork

_IAM_PRINCIPAL = re.compile(r"arn:([^:]+):iam::(\d{12}):(user|role)(/(?:[^/]+/)*)([^/]+)\Z")


def bind_trust(tx: UnitOfWork, document: str) -> tuple[tuple[str, str], ...]:
    """The (ARN, unique id) of every IAM user and role `document` names (`AWS` in `Principal` or `NotPrincipal`),
    for accounts held here. One that does not exist, with that exact name and path in that account's partition,
    is refused as AWS refuses it: MalformedPolicyDocument 'Invalid principal in policy: "AWS":"<arn>"' (so a role
    cannot name itself in CreateRole: it does not exist yet). `document` must already be valid."""
    bindings: dict[str, str] = {}
    for statement in parse(document, kind=PolicyKind.TRUST).statements:
        for spec in (statement.principal, statement.not_principal):
            for value in spec.values("AWS") if spec is not None else ():
                m = _IAM_PRINCIPAL.match(value)
                if not m or value in bindings:
                    continue
                partition, account_id, kind, path, name = m.groups()
                account = tx.accounts.get(account_id)
                if account is None:
                    continue  # not an account of this Gatehouse: nothing to look up, the ARN stays as written
                found = tx.principals.find(account_id, kind, name) if account.partition == partition else None
                if found is None or found.name != name or found.path != path:
                    raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{value}"')
                bindings[value] = found.unique_id
    return tuple(bindings.items())


def shown(tx: UnitOfWork, roles: Iterable[Role]) -> list[Role]:
    """`roles` with their trust policies as AWS shows them: each bound principal as its current ARN while it
    exists (renamed or not), as its bare unique id once deleted. Unchanged text when nothing changed."""
    roles = list(roles)
    wanted = {uid for role in roles for _, uid in role.trust_principals}
    if not wanted:
        return roles
    found = tx.principals.by_ids(wanted)
    out = []
    for role in roles:
        changes: dict[str, str] = {}
        for arn, uid in role.trust_principals:
            principal = found.get(uid)
            now = principal.arn(arn.split(":", 2)[1]) if principal is not None else uid
            if now != arn:
                changes[arn] = now
        out.append(dataclasses.replace(role, trust_policy=_rewritten(role.trust_policy, changes)) if changes
                   else role)
    return out


def _rewritten(document: str, changes: Mapping[str, str]) -> str:
    """`document` with the `AWS` principal values in `changes` replaced (nowhere else: a condition naming the same
    ARN is text, not a binding)."""
    try:
        doc = json.loads(document)
    except ValueError:
        return document
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    for statement in [statements] if isinstance(statements, dict) else statements or []:
        for element in ("Principal", "NotPrincipal"):
            spec = statement.get(element) if isinstance(statement, dict) else None
            if isinstance(spec, dict) and "AWS" in spec:
                spec["AWS"] = _replaced(spec["AWS"], changes)
    return json.dumps(doc, separators=(",", ":"))


def _replaced(value: Any, changes: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return changes.get(value, value)
    if isinstance(value, list):
        return [changes.get(v, v) if isinstance(v, str) else v for v in value]
    return value
