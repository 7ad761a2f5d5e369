"""Who is asking: the `Principal` value object, and how a policy's `Principal`/`NotPrincipal` element names one.

A request principal can be named in a resource-based policy in several ways, and the way matters to AWS's
evaluation logic within one account ("Policy evaluation logic", resource-based policies):
* `DIRECT`: the exact requester (the IAM user ARN, the role *session* ARN, the federated-user ARN, a service
  principal name, a web identity provider, or the wildcard `*`). Such a grant stands on its own.
* `ROLE`: the role behind a role session (or the IAM user behind a federated-user session). Such a grant stands in
  for an identity-based allow but is still limited by the permissions boundary and session policies.
* `ACCOUNT`: the account (`123456789012` or `arn:aws:iam::123456789012:root`). Within the account this delegates to
  identity-based policies; across accounts it is the resource side's consent.

A stored policy naming an IAM user or role is bound to that principal's unique id when it is saved (AWS: "When you
save the policy, AWS transforms the ARN to a unique principal ID"): `bind_principals` puts the ids in place of the
ARNs, and a bound value matches the principal holding that id, whatever its name now, and never a principal
re-created under the old name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .document import Policy, PrincipalSpec

# IAM user (AIDA…) and role (AROA…) unique ids: what a bound `AWS` principal holds in place of the ARN.
UNIQUE_ID = re.compile(r"A(?:IDA|ROA)[A-Z0-9]+\Z")

NO_MATCH, ACCOUNT, ROLE, DIRECT = 0, 1, 2, 3

WEB_IDENTITY_PROVIDERS = frozenset(
    {"accounts.google.com", "graph.facebook.com", "www.amazon.com", "cognito-identity.amazonaws.com"}
)

# aws:PrincipalType values ("AWS global condition context keys").
PRINCIPAL_TYPES = {
    "root": "Account",
    "user": "User",
    "role": "AssumedRole",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
    "anonymous": "Anonymous",
}

AWS_KINDS = frozenset({"root", "user", "role", "assumed-role", "federated-user"})
SESSION_KINDS = frozenset({"assumed-role", "federated-user"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller.

    `role_arn` is, for an assumed-role session, the IAM ARN of the role (with its path, when the server knows it);
    for a federated-user session, the ARN of the IAM user who called GetFederationToken. Resource-based policies
    and trust policies can name either the session or this identity. `unique_id` is the unique id of the IAM user
    or role `arn` (for a user or role) or `role_arn` (for a session) stands for, when known: what bound policies
    match.
    """

    arn: str
    account: str | None
    kind: str
    user_id: str | None = None
    name: str | None = None
    role_arn: str | None = None
    session_name: str | None = None
    unique_id: str | None = None

    @property
    def partition(self) -> str:
        parts = self.arn.split(":", 2)
        return parts[1] if len(parts) > 2 and parts[0] == "arn" else "aws"

    @property
    def root_arn(self) -> str | None:
        return f"arn:{self.partition}:iam::{self.account}:root" if self.account else None

    @property
    def is_session(self) -> bool:
        return self.kind in SESSION_KINDS

    @property
    def is_aws(self) -> bool:
        """An IAM identity whose own account's identity-based policies apply."""
        return self.kind in AWS_KINDS

    @classmethod
    def from_arn(cls, arn: str, *, user_id: str | None = None, role_arn: str | None = None,
                 unique_id: str | None = None) -> Principal:
        """Build a principal from an ARN (or a service principal name, a web identity provider, or `*`)."""
        found = cls._from_arn(arn, user_id, role_arn)
        return dataclasses.replace(found, unique_id=unique_id) if unique_id and found.is_aws else found

    @classmethod
    def _from_arn(cls, arn: str, user_id: str | None, role_arn: str | None) -> Principal:
        if arn in ("*", "anonymous", ""):
            return cls("*", None, "anonymous", user_id)
        if not arn.startswith("arn:"):
            if arn in WEB_IDENTITY_PROVIDERS:
                return cls(arn, None, "web-identity", user_id, arn)
            return cls(arn, None, "service", user_id, arn)
        parts = arn.split(":", 5)
        if len(parts) < 6:
            raise ValueError(f"not a principal ARN: {arn}")
        _, partition, service, _, account, resource = parts
        rtype, _, rest = resource.partition("/")
        if service == "iam":
            if resource == "root":
                return cls(arn, account, "root", user_id, account)
            if rtype == "user":
                return cls(arn, account, "user", user_id, rest.rsplit("/", 1)[-1])
            if rtype == "role":
                return cls(arn, account, "role", user_id, rest.rsplit("/", 1)[-1], role_arn or arn)
            if rtype == "oidc-provider":
                return cls(arn, account, "web-identity", user_id, rest)
            if rtype == "saml-provider":
                return cls(arn, account, "saml", user_id, rest)
        if service == "sts":
            if rtype == "assumed-role":
                role_name, _, session = rest.partition("/")
                implied = f"arn:{partition}:iam::{account}:role/{role_name}"
                return cls(arn, account, "assumed-role", user_id, role_name, role_arn or implied, session)
            if rtype == "federated-user":
                implied_user = f"arn:{partition}:iam::{account}:user/{rest}"
                return cls(arn, account, "federated-user", user_id, rest, role_arn or implied_user, rest)
        raise ValueError(f"not a principal ARN: {arn}")


class PrincipalMatcher:
    """A compiled `Principal` (or `NotPrincipal`) element."""

    __slots__ = ("accounts", "any", "aws", "canonical", "federated", "ids", "services")

    def __init__(self, spec: PrincipalSpec) -> None:
        self.any = spec.wildcard
        self.aws: set[str] = set()
        self.ids: set[str] = set()
        self.accounts: set[str] = set()
        self.services = {v.lower() for v in spec.values("Service")}
        self.federated = set(spec.values("Federated"))
        self.canonical = set(spec.values("CanonicalUser"))
        for value in spec.values("AWS"):
            if value == "*":
                self.any = True
            elif value.isdigit():
                self.accounts.add(value)
            elif value.endswith(":root") and ":iam::" in value:
                self.accounts.add(value.split(":")[4])
            elif UNIQUE_ID.match(value):
                self.ids.add(value)
            else:
                self.aws.add(value)
        if "*" in self.services or "*" in self.federated:
            self.any = True

    def match(self, p: Principal) -> int:
        """How this element names `p`: NO_MATCH, ACCOUNT, ROLE or DIRECT."""
        if self.any:
            return DIRECT
        kind = p.kind
        if kind == "service":
            return DIRECT if (p.name or p.arn).lower() in self.services else NO_MATCH
        if kind in ("web-identity", "saml"):
            return DIRECT if p.arn in self.federated or (p.name or "") in self.federated else NO_MATCH
        if kind == "anonymous":
            return NO_MATCH
        if p.arn in self.aws:
            return DIRECT
        if kind == "root" and p.account in self.accounts:
            return DIRECT
        if p.unique_id is not None and p.unique_id in self.ids:
            return ROLE if p.is_session else DIRECT  # a session's id is its role's (or federating user's)
        if p.role_arn is not None and p.role_arn in self.aws:
            return ROLE
        if p.account is not None and p.account in self.accounts:
            return ACCOUNT
        return NO_MATCH

    def excludes(self, p: Principal) -> bool:
        """For `NotPrincipal`: True only when every identity of `p` is named (session, its role, its account).

        AWS documents that a `NotPrincipal` exclusion must list the account, and for a session also the role and
        session ARNs; otherwise the statement still applies to the principal.
        """
        if self.any:
            return True
        kind = p.kind
        if kind == "service":
            return (p.name or p.arn).lower() in self.services
        if kind in ("web-identity", "saml"):
            return p.arn in self.federated
        if kind == "anonymous":
            return False
        if kind == "root":
            return p.account in self.accounts
        by_id = p.unique_id is not None and p.unique_id in self.ids
        if not (p.arn in self.aws or (by_id and not p.is_session)) or p.account not in self.accounts:
            return False
        return p.role_arn is None or p.role_arn == p.arn or p.role_arn in self.aws or (by_id and p.is_session)


def bind_principals(policy: Policy, bindings: Mapping[str, str]) -> Policy:
    """`policy` with each `AWS` principal value found in `bindings` (ARN as written -> unique id) replaced by its
    id, in `Principal` and `NotPrincipal`: what a stored resource policy means once saved. Pure; the digest (the
    compiled-policy cache key) covers the bindings."""
    if not bindings:
        return policy

    def bound(spec: PrincipalSpec | None) -> PrincipalSpec | None:
        if spec is None or spec.wildcard:
            return spec
        entries = tuple((ptype, tuple(bindings.get(v, v) for v in values) if ptype == "AWS" else values)
                        for ptype, values in spec.entries)
        return dataclasses.replace(spec, entries=entries)

    statements = tuple(dataclasses.replace(s, principal=bound(s.principal), not_principal=bound(s.not_principal))
                       for s in policy.statements)
    key = "\n".join(f"{arn}\t{uid}" for arn, uid in sorted(bindings.items()))
    digest = hashlib.sha256(f"{policy.digest}\n{key}".encode()).hexdigest()
    return dataclasses.replace(policy, statements=statements, digest=digest)
