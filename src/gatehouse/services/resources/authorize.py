"""The authorization API (POST /authorize): an application asks whether a principal may perform an action on one
of its own resources, and gets the answer `gatehouse eval` gives (decision, matched statements, reason).

The question is the `request` of an evaluation case (`shared/formats/eval-case.md`): principal, action, resource,
optional resource_account, context keys. Policies are never part of it: they are looked up, as they are for any
request Gatehouse serves: the principal's identity policies, its permissions boundary and (for a forwarded signed
request of a session) its session policies, and the resource's policy from the registry; SCPs and RCPs apply
through the same `Authorizer.decide` every operation uses. A question that carries `policies` is refused.

Rules, and why:
* The application (the signer of POST /authorize) must be allowed `gatehouse:Authorize` on the resource, and the
  resource must be in the application's own account and partition: an application decides access to its own
  resources, never to another account's.
* The principal is either the original SigV4-signed request, which the wire layer authenticates on the
  application's behalf (any account held here; its session policies and session tags then apply), or an ARN,
  looked up in the application's own account only: a user, a role or an assumed-role session (decided with the
  role's identity policies and boundary; session policies and tags are bound to the credential, so they apply only
  when the signed request is forwarded), or the account root. A principal of another account must prove itself
  with its signed request, as in AWS: otherwise one account could read another's identity policies through
  decisions.
* Context keys the application supplies are the request's facts it knows (`aws:SourceIp`, `aws:UserAgent`,
  `aws:SecureTransport`, `aws:RequestedRegion`, `aws:Referer`, `aws:RequestTag/*`, `aws:TagKeys`, `aws:Source*`)
  and keys of its own service namespace; keys Gatehouse derives (the principal's, the resource's tags and
  account, time, MFA, `iam:`/`sts:` keys) cannot be supplied.
* Cross-account and same-account evaluation are the engine's (`policy/evaluate.py`): within one account an allow
  in the identity policies or in the resource policy suffices (unless denied, and within the boundary and session
  policies as AWS's evaluation logic says); across accounts both the principal's identity policies and the
  resource policy must allow.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatehouse.errors import AccessDenied, AwsError, InvalidParameterException
from gatehouse.model import Caller, PrincipalKind, RegisteredResource, RequestMeta
from gatehouse.policy import PolicyKind
from gatehouse.policy.evalcase import decision_line
from gatehouse.services.authorization import Authorizer
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.resources.arns import RESERVED_SERVICES, parse_resource_arn
from gatehouse.services.resources.lookups import LazyUnit, RevisionCache
from gatehouse.services.resources.registry import resource_tag_keys
from gatehouse.storage.repository import Store, UnitOfWork

MAX_BATCH = 100
MAX_CONTEXT_KEYS = 64
MAX_CONTEXT_VALUES = 64
MAX_VALUE_LENGTH = 2048
_ACTION = re.compile(r"[a-zA-Z0-9-]{1,64}:[a-zA-Z0-9*?]{1,128}\Z")
# Global condition keys that describe the request, which only the application sees (lower case).
_SUPPLIED_GLOBAL = frozenset({"aws:sourceip", "aws:useragent", "aws:securetransport", "aws:requestedregion",
                              "aws:referer", "aws:tagkeys", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip",
                              "aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths"})
_SUPPLIED_PREFIXES = ("aws:requesttag/",)
_DERIVED_NAMESPACES = frozenset({"aws", *RESERVED_SERVICES})
_ARN_PRINCIPAL = re.compile(r"arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)\Z")


class Unanswerable(InvalidParameterException):
    """The question cannot be decided as asked (its message locates the problem, as `gatehouse eval`'s errors)."""


@dataclass(frozen=True)
class Question:
    """One request of POST /authorize, read and checked; the principal is an ARN or a signed request."""

    case_id: Any
    action: str
    resource: str
    resource_account: str | None
    context: dict[str, str | list[str]]
    principal_arn: str | None
    signed_request: Mapping[str, Any] | None


def read_question(raw: Any, case_id: Any) -> Question:
    """The `request` object of eval-case.md, with `principal` (an ARN) or `signed_request` (method, url, headers,
    body) naming who asks; `policies` refused."""
    if not isinstance(raw, Mapping):
        raise Unanswerable("request: missing or not an object")
    if "policies" in raw:
        raise Unanswerable("request.policies: policies are looked up, never supplied")
    principal, signed = raw.get("principal"), raw.get("signed_request")
    if (principal is None) == (signed is None):
        raise Unanswerable("request: give exactly one of principal (an ARN) and signed_request")
    if principal is not None and not (isinstance(principal, str) and len(principal) <= 2048):
        raise Unanswerable("request.principal: must be an ARN")
    if signed is not None and not isinstance(signed, Mapping):
        raise Unanswerable("request.signed_request: must be an object with method, url, headers and body")
    action = raw.get("action")
    if not isinstance(action, str) or not _ACTION.match(action):
        raise Unanswerable("request.action: must be a string like service:Action")
    resource = raw.get("resource", "*")
    if not isinstance(resource, str) or not resource or len(resource) > 2048:
        raise Unanswerable("request.resource: must be an ARN or *")
    account = raw.get("resource_account")
    if account is not None and not (isinstance(account, str) and account.isascii() and account.isdigit()
                                    and len(account) == 12):
        raise Unanswerable("request.resource_account: must be a 12-digit account id")
    return Question(case_id, action, resource, account, _context(raw.get("context")), principal, signed)


def _context(raw: Any) -> dict[str, str | list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Unanswerable("request.context: must be an object")
    if len(raw) > MAX_CONTEXT_KEYS:
        raise Unanswerable(f"request.context: at most {MAX_CONTEXT_KEYS} keys")
    out: dict[str, str | list[str]] = {}
    for name, value in raw.items():
        lower = name.lower()
        namespace = lower.split(":", 1)[0] if ":" in lower else ""
        if not namespace or len(name) > 256:
            raise Unanswerable(f"request.context.{name[:256]}: a condition key is namespace:name")
        if namespace in _DERIVED_NAMESPACES and not (lower in _SUPPLIED_GLOBAL
                                                    or lower.startswith(_SUPPLIED_PREFIXES)):
            raise Unanswerable(f"request.context.{name}: Gatehouse derives this key; it cannot be supplied")
        values = value if isinstance(value, list) else [value]
        if (not all(isinstance(v, str) and len(v) <= MAX_VALUE_LENGTH for v in values)
                or len(values) > MAX_CONTEXT_VALUES):
            raise Unanswerable(f"request.context.{name}: values must be strings (or a list of at most "
                               f"{MAX_CONTEXT_VALUES}) of at most {MAX_VALUE_LENGTH} characters")
        out[name] = value
    return out


def _value(context: Mapping[str, str | list[str]], key: str) -> str | None:
    for name, value in context.items():
        if name.lower() == key:
            return value if isinstance(value, str) else None
    return None


def principal_meta(app: RequestMeta, context: Mapping[str, str | list[str]], region: str | None = None
                   ) -> RequestMeta:
    """The facts of the principal's request: what the application says it saw (its source address, user agent,
    transport, region), else nothing it could not know (never the application's own address)."""
    secure = _value(context, "aws:securetransport")
    return RequestMeta(request_id=app.request_id, region=_value(context, "aws:requestedregion") or region or app.region,
                       source_ip=_value(context, "aws:sourceip") or "", user_agent=_value(context, "aws:useragent")
                       or "", secure_transport=(secure == "true") if secure is not None else app.secure_transport,
                       time=app.time, host=app.host)


class AuthorizationApi:
    """Decides questions of POST /authorize for an authenticated application (see the module docstring)."""

    def __init__(self, store: Store, authz: Authorizer) -> None:
        self.store = store
        self.authz = authz
        self._resources: RevisionCache[RegisteredResource | None] = RevisionCache()
        self._principals: RevisionCache[Caller] = RevisionCache()

    def decide(self, app: Caller, question: Question, principal: Caller | None = None) -> dict[str, Any]:
        """The output line for `question`; `principal` is the caller authenticated from its signed request, if it
        came with one. AwsError when the application may not ask it (or the principal is unknown)."""
        resource_account = self._resource_account(app, question)
        with LazyUnit(self.store, app.account_id) as tx:
            self.authz.require(tx, app, "gatehouse:Authorize", Target(question.resource))
            registered = None
            if question.resource != "*":
                registered = self._resources.get(app.account_id, app.revision, question.resource,
                                                 lambda: tx.resources.get(question.resource))
            if principal is None:
                found = self._principals.get(app.account_id, app.revision, question.principal_arn or "",
                                             lambda: self.principal_named(tx, app, question))
                principal = dataclasses.replace(found, request=principal_meta(app.request, question.context))
            if principal.account_id == app.account_id:
                return self._decide(tx, principal, question, registered, resource_account)
        with LazyUnit(self.store, principal.account_id) as ptx:
            return self._decide(ptx, principal, question, registered, resource_account)

    def _decide(self, tx: UnitOfWork, principal: Caller, q: Question, registered: RegisteredResource | None,
                resource_account: str) -> dict[str, Any]:
        resource_policy = None
        keys: dict[str, Any] = dict(q.context)
        if registered is not None:
            keys.update(resource_tag_keys(registered.tags))
            if registered.policy is not None:
                resource_policy = self.authz.compile(registered.policy, "resource", PolicyKind.RESOURCE)
                if resource_policy is None:
                    raise Unanswerable(f"the resource policy of {registered.arn} can no longer be read; put it again")
        decision, ctx = self.authz.decide(tx, principal, q.action, Target(q.resource),
                                          facts=RequestFacts(extra=keys), resource_policy=resource_policy,
                                          resource_account=resource_account)
        line = decision_line(q.case_id, decision, ctx)
        line["principal"] = principal.arn
        return line

    @staticmethod
    def _resource_account(app: Caller, q: Question) -> str:
        if q.resource == "*":
            account = q.resource_account or app.account_id
        else:
            parsed = parse_resource_arn(q.resource)
            if parsed is None:
                raise Unanswerable("request.resource: must be an ARN or *")
            if parsed.partition != app.partition:
                raise AccessDenied(f"Resource {q.resource} is not in partition {app.partition}: an application "
                                   "decides requests on its own account's resources only.")
            account = parsed.account or q.resource_account or app.account_id
            if q.resource_account is not None and q.resource_account != account:
                raise Unanswerable("request.resource_account: differs from the account in the resource ARN")
        if account != app.account_id:
            raise AccessDenied(f"Resource {q.resource} is not in account {app.account_id}: an application decides "
                               "requests on its own account's resources only.")
        return account

    def principal_named(self, tx: UnitOfWork, app: Caller, q: Question) -> Caller:
        """The principal an ARN names, looked up in the application's account (names without case, paths
        exactly, as IAM resolves them); its canonical ARN. AwsError when it names nobody here."""
        arn = q.principal_arn or ""
        m = _ARN_PRINCIPAL.match(arn)
        if m is None or m[1] != app.partition or m[3] != app.account_id:
            raise AccessDenied(f"Principal {arn[:2048]} is not an IAM principal of account {app.account_id}: name a "
                               "principal of another account by forwarding its signed request.")
        service, account, rest = m[2], m[3], m[4]
        meta = principal_meta(app.request, q.context)

        def make(kind: PrincipalKind, arn: str, user_id: str, name: str, principal_id: str | None = None,
                 revision: int = -1) -> Caller:
            # Same account as the application: its organization, read with the application's credential, is
            # the principal's too (no second look-up on the hot path).
            return Caller(account_id=account, kind=kind, arn=arn, user_id=user_id, name=name, access_key_id="",
                          request=meta, partition=app.partition, principal_id=principal_id, revision=revision,
                          org=app.org, org_known=app.org_known)

        revision = app.revision  # the named principal is of the application's account
        if service == "iam" and rest == "root":
            return make(PrincipalKind.ROOT, arn, account, "root", revision=revision)
        kind, _, path_name = rest.partition("/")
        path, _, name = ("/" + path_name).rpartition("/")
        if service == "iam" and kind == "user":
            user = tx.users.get(name)
            if user is not None and user.path == path + "/":
                return make(PrincipalKind.USER, user.arn(app.partition), user.user_id, user.name, user.user_id,
                            revision)
        elif service == "iam" and kind == "role":
            role = tx.roles.get(name)
            if role is not None and role.path == path + "/":
                # Not cached (revision -1): the authorizer's cache keys a principal by its id, which the role's
                # sessions share.
                return make(PrincipalKind.ASSUMED_ROLE, role.arn(app.partition), role.role_id, role.name,
                            role.role_id)
        elif service == "sts" and kind == "assumed-role" and path_name.count("/") == 1:
            role_name, session = path_name.split("/")
            role = tx.roles.get(role_name)
            if role is not None:
                return make(PrincipalKind.ASSUMED_ROLE,
                            f"arn:{app.partition}:sts::{account}:assumed-role/{role.name}/{session}",
                            f"{role.role_id}:{session}", session, role.role_id)
        raise NoSuchPrincipal(f"Principal {arn} does not exist in account {account}.")


class NoSuchPrincipal(AwsError):
    code, http_status = "ResourceNotFoundException", 404
