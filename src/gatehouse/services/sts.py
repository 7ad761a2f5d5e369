"""AWS Security Token Service: temporary credentials.

AssumeRole is decided like any request with a resource-based policy: the role's trust policy is the resource
side, the caller's own policies the identity side (AWS's evaluation logic; across accounts both must allow).
Sessions are sealed into their token (`session_tokens`), so issuing one writes nothing but the role's last-used
note.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gatehouse.errors import (
    AccessDenied,
    AwsError,
    InvalidAuthorizationMessage,
    InvalidParameterValue,
    MalformedPolicyDocument,
    PackedPolicyTooLarge,
    Throttling,
)
from gatehouse.errors import ValidationError as AwsValidationError
from gatehouse.model import Caller, OwnerKind, PrincipalKind, Role, SessionKind, Tag, make_arn
from gatehouse.policy import PolicyKind, validate
from gatehouse.services import ids
from gatehouse.services.authorization import Authorizer
from gatehouse.services.authorization_messages import InvalidEncodedMessage
from gatehouse.services.clock import Clock
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.policy_refs import find_policy
from gatehouse.services.lockouts import Guess
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.session_tokens import SessionClaims, SessionTokens
from gatehouse.storage.repository import Store, UnitOfWork

_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role(/(?:[^/]+/)*)([\w+=,.@-]{1,64})\Z")
MAX_SESSION_TAGS = 50
CHAINED_MAX = 3600
ROOT_MAX = 3600


class MfaCheck(Protocol):
    """Checks a one-time code of the caller's MFA device under the guessing lockout (`mfa_codes.MfaCodes`)."""

    def guess_code(self, caller: Caller, serial_number: str, code: str) -> Guess: ...


@dataclass(frozen=True)
class StsDeps:
    store: Store
    authz: Authorizer
    tokens: SessionTokens
    managed: AwsManagedPolicies
    clock: Clock
    mfa: MfaCheck


@dataclass(frozen=True, slots=True)
class RoleSessionPlan:
    """A role session checked in full, its credentials chosen but not yet sealed or recorded."""

    role: Role
    partition: str
    claims: SessionClaims
    packed_size: int
    issued: dt.datetime
    region: str


@dataclass(frozen=True)
class SessionRequest:
    """The session-shaping inputs AssumeRole* and GetFederationToken share."""

    policy: str | None = None
    policy_arns: Sequence[dict[str, str]] | None = None
    tags: Sequence[dict[str, str]] | None = None
    transitive_tag_keys: Sequence[str] | None = None


def parse_role_arn(arn: str) -> tuple[str, str, str, str]:
    """(partition, account, path, name) of a role ARN, or AWS's ValidationError."""
    m = _ROLE_ARN.match(arn)
    if not m:
        raise AwsValidationError(f"{arn} is invalid")
    return m.group(1), m.group(2), m.group(3), m.group(4)


def root_capped(caller: Caller, duration_seconds: int | None) -> int:
    """GetSessionToken/GetFederationToken duration: 12 hours by default; the root user's sessions are capped at one
    hour, silently ("If the duration is longer than one hour, the session for Amazon Web Services account owners
    defaults to one hour": DurationSeconds in both operations' API reference)."""
    if caller.is_root:
        return min(duration_seconds or ROOT_MAX, ROOT_MAX)
    return duration_seconds or 43200


class Sts:
    def __init__(self, deps: StsDeps) -> None:
        self.deps = deps
        self.store = deps.store
        self.authz = deps.authz

    # --- identity ------------------------------------------------------------------------------------------

    @operation
    def get_caller_identity(self, caller: Caller) -> dict[str, Any]:
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}

    @operation
    def get_access_key_info(self, caller: Caller, access_key_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "sts:GetAccessKeyInfo", "*")
        account = ids.account_of_key(access_key_id)
        if account is None:
            record = self.store.credential(access_key_id)
            account = record.key.account_id if record else None
        if account is None:
            raise InvalidParameterValue(f"The access key {access_key_id} is not valid.")
        return {"Account": account}

    @operation
    def decode_authorization_message(self, caller: Caller, encoded_message: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "sts:DecodeAuthorizationMessage", "*")
        if self.authz.messages is None:
            raise InvalidAuthorizationMessage("The encoded message is not valid.")
        try:
            decoded = self.authz.messages.decode(encoded_message, caller.account_id)
        except InvalidEncodedMessage:
            raise InvalidAuthorizationMessage("The encoded message is not valid.") from None
        return {"DecodedMessage": json.dumps(decoded, separators=(",", ":"))}

    # --- AssumeRole ----------------------------------------------------------------------------------------

    @operation
    def assume_role(self, caller: Caller, role_arn: str, role_session_name: str, duration_seconds: int | None = None,
                    policy: str | None = None, policy_arns: list[dict[str, str]] | None = None,
                    tags: list[dict[str, str]] | None = None, transitive_tag_keys: list[str] | None = None,
                    external_id: str | None = None, serial_number: str | None = None,
                    token_code: str | None = None, source_identity: str | None = None, **_: Any) -> dict[str, Any]:
        if caller.is_root:
            raise AccessDenied("Roles may not be assumed by root accounts.")
        session = caller.session
        chained = caller.kind is PrincipalKind.ASSUMED_ROLE
        if session is not None and session.source_identity:
            if source_identity and source_identity != session.source_identity:
                raise AccessDenied("The source identity of a session cannot be changed.")
            source_identity = session.source_identity
        request = SessionRequest(policy, policy_arns, tags, transitive_tag_keys)
        session_tags, transitive = self.session_tags(caller, request)
        mfa = bool(session and session.mfa_authenticated)
        mfa_time = session.mfa_time if session and session.mfa_time else None
        if serial_number or token_code:
            mfa = self._check_mfa(caller, serial_number, token_code)
            mfa_time = self.deps.clock()
        facts = RequestFacts(
            tags=[Tag(k, v) for k, v in session_tags] if request.tags else None, session_name=role_session_name,
            external_id=external_id, source_identity=source_identity or None, transitive_tag_keys=transitive or None,
            extra={"aws:MultiFactorAuthPresent": "true"} if mfa else {})
        role = self._authorize_assume(caller, role_arn, "sts:AssumeRole", facts,
                                      tag_session=bool(request.tags or request.transitive_tag_keys),
                                      set_source_identity=bool(source_identity and not (
                                          session and session.source_identity)))
        # A session chained from a workload's stays bound to the workload: revoking it stops both.
        return self.issue_role_session(self.plan_role_session(
            caller, role, role_session_name, request, session_tags, transitive, duration_seconds=duration_seconds,
            chained=chained, source_identity=source_identity, mfa=mfa, mfa_time=mfa_time,
            workload=session.workload if session else None))

    def _authorize_assume(self, caller: Caller, role_arn: str, action: str, facts: RequestFacts, *,
                          tag_session: bool = False, set_source_identity: bool = False) -> Role:
        """The role, if the trust policy and the caller's own policies allow `action` (and session tagging or
        setting the source identity when asked); AccessDenied otherwise, without saying whether the role exists.

        The role is found by name (without case, as IAM compares names) with the exact path, in the caller's
        partition (which must be the role account's), then authorized by its own ARN with its tags: the text of
        `role_arn` decides nothing."""
        partition, account, path, name = parse_role_arn(role_arn)
        role: Role | None = None
        tags: tuple[Tag, ...] = ()
        with self.store.read(account) as rtx:
            held = rtx.accounts.get(account)
            if held is not None and partition == caller.partition == held.partition:
                role = rtx.roles.get(name)
                if role is not None and role.path == path:
                    tags = rtx.tags.get(OwnerKind.ROLE, role.role_id)
                else:
                    role = None
        resource = role.arn(caller.partition) if role else role_arn
        denied = AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}")
        if role is None:
            raise denied
        trust = self.authz.compile(role.trust_policy, "trust policy", PolicyKind.TRUST,
                                  role.trust_principals)
        if trust is None:
            raise denied
        actions = [action] + (["sts:TagSession"] if tag_session else []) + (
            ["sts:SetSourceIdentity"] if set_source_identity else [])
        if not self.authz.enforcing():
            return role
        target = Target(resource, OwnerKind.ROLE, lambda: tags, role.permissions_boundary)
        with self.store.read(caller.account_id) as tx:
            for act in actions:
                decision, ctx = self.authz.decide(tx, caller, act, target, facts=facts, resource_policy=trust,
                                                  resource_account=account)
                self.authz.note(decision, ctx)
                if not decision.allowed:
                    raise self.authz.denied(decision, ctx)
        return role

    def _duration(self, role: Role, requested: int | None, chained: bool) -> int:
        duration = requested or 3600
        if chained and duration > CHAINED_MAX:
            raise AwsValidationError("The requested DurationSeconds exceeds the 1 hour session limit for roles "
                                     "assumed by role chaining.")
        if duration > role.max_session_duration:
            raise AwsValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                                     "role.")
        return duration

    def plan_role_session(self, caller: Caller | None, role: Role, session_name: str, request: SessionRequest,
                          session_tags: Sequence[tuple[str, str]] = (), transitive: Sequence[str] = (), *,
                          duration_seconds: int | None = None, chained: bool = False, cap_seconds: int | None = None,
                          source_identity: str | None = None, mfa: bool = False, mfa_time: dt.datetime | None = None,
                          federated_provider: str | None = None, region: str | None = None,
                          workload: str | None = None) -> RoleSessionPlan:
        """Check a role session in full (duration, session policies, packed size) and fix its credentials;
        nothing is written. AssumeRole and the federation flows call this after authorizing the caller, then
        `issue_role_session`: a flow that must remember something (SAML's replay memory) does so in between, once
        every check has passed."""
        duration = self._duration(role, duration_seconds, chained)
        if cap_seconds is not None:
            duration = max(1, min(duration, cap_seconds))
        partition = self.partition_of(role.account_id)
        policies, arns = self._session_policies(partition, role.account_id, request)
        now = self.deps.clock()
        key_id = ids.access_key_id(role.account_id, ids.Prefix.TEMP_ACCESS_KEY)
        claims = SessionClaims(
            kind=SessionKind.ASSUMED_ROLE, account_id=role.account_id, access_key_id=key_id,
            secret_access_key=ids.secret_access_key(), issued=int(now.timestamp()),
            expires=int(now.timestamp()) + duration, principal_id=role.role_id, role_name=role.name,
            session_name=session_name, policies=policies, policy_arns=arns, tags=tuple(session_tags),
            transitive_tag_keys=tuple(transitive), source_identity=source_identity, mfa=mfa,
            mfa_time=int(mfa_time.timestamp()) if mfa_time else None, chained=chained,
            federated_provider=federated_provider, workload=workload)
        return RoleSessionPlan(role, partition, claims, self._packed(claims), now,
                               region or (caller.request.region if caller else "us-east-1"))

    def issue_role_session(self, plan: RoleSessionPlan) -> dict[str, Any]:
        """Seal a planned role session into credentials and record the role's use: the one issuer of role
        sessions, for AssumeRole and the federation flows alike."""
        role, claims = plan.role, plan.claims
        self.store.record_role_use(role.account_id, role.role_id, plan.issued.replace(microsecond=0), plan.region)
        out: dict[str, Any] = {
            "Credentials": self._credentials(claims),
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role.role_id}:{claims.session_name}",
                "Arn": make_arn(plan.partition, "sts", role.account_id,
                                f"assumed-role/{role.name}/{claims.session_name}"),
            },
        }
        if claims.policies or claims.policy_arns or claims.tags:
            out["PackedPolicySize"] = plan.packed_size
        if claims.source_identity:
            out["SourceIdentity"] = claims.source_identity
        return out

    def partition_of(self, account_id: str) -> str:
        """The partition of an account held here (its ARNs are in it, whoever asks and however they signed)."""
        with self.store.read(account_id) as tx:
            account = tx.accounts.get(account_id)
        return account.partition if account else "aws"

    # --- GetSessionToken and GetFederationToken ----------------------------------------------------------

    @operation
    def get_session_token(self, caller: Caller, duration_seconds: int | None = None,
                          serial_number: str | None = None, token_code: str | None = None, **_: Any
                          ) -> dict[str, Any]:
        if caller.session is not None:
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        duration = root_capped(caller, duration_seconds)
        mfa = False
        if serial_number or token_code:
            mfa = self._check_mfa(caller, serial_number, token_code)
        now = self.deps.clock()
        claims = SessionClaims(
            kind=SessionKind.USER_SESSION, account_id=caller.account_id,
            access_key_id=ids.access_key_id(caller.account_id, ids.Prefix.TEMP_ACCESS_KEY),
            secret_access_key=ids.secret_access_key(), issued=int(now.timestamp()),
            expires=int(now.timestamp()) + duration, principal_id=caller.principal_id, mfa=mfa,
            mfa_time=int(now.timestamp()) if mfa else None)
        return {"Credentials": self._credentials(claims)}

    @operation
    def get_federation_token(self, caller: Caller, name: str, policy: str | None = None,
                             policy_arns: list[dict[str, str]] | None = None, duration_seconds: int | None = None,
                             tags: list[dict[str, str]] | None = None, **_: Any) -> dict[str, Any]:
        if caller.session is not None:
            raise AccessDenied("Cannot call GetFederationToken with session credentials")
        arn = make_arn(caller.partition, "sts", caller.account_id, f"federated-user/{name}")
        request = SessionRequest(policy, policy_arns, tags)
        session_tags, _transitive = self.session_tags(caller, request)
        facts = RequestFacts(tags=[Tag(k, v) for k, v in session_tags] if tags else None)
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "sts:GetFederationToken", arn, facts=facts)
            if tags:
                self.authz.require(tx, caller, "sts:TagSession", arn, facts=facts)
        duration = root_capped(caller, duration_seconds)
        policies, arns = self._session_policies(caller.partition, caller.account_id, request)
        now = self.deps.clock()
        claims = SessionClaims(
            kind=SessionKind.FEDERATED_USER, account_id=caller.account_id,
            access_key_id=ids.access_key_id(caller.account_id, ids.Prefix.TEMP_ACCESS_KEY),
            secret_access_key=ids.secret_access_key(), issued=int(now.timestamp()),
            expires=int(now.timestamp()) + duration, principal_id=caller.principal_id, session_name=name,
            policies=policies, policy_arns=arns, tags=tuple(session_tags))
        size = self._packed(claims)
        # Unlike AssumeRole, GetFederationToken always answers PackedPolicySize, 0 when nothing was passed
        # (LocalStack's AWS-validated test_sts.snapshot.json, "get-federation-token" with a Name only).
        return {"Credentials": self._credentials(claims),
                "FederatedUser": {"FederatedUserId": f"{caller.account_id}:{name}", "Arn": arn},
                "PackedPolicySize": size if policies or arns or session_tags else 0}

    # --- shared pieces --------------------------------------------------------------------------------------

    def _credentials(self, claims: SessionClaims) -> dict[str, Any]:
        return {"AccessKeyId": claims.access_key_id, "SecretAccessKey": claims.secret_access_key,
                "SessionToken": self.deps.tokens.seal(claims), "Expiration": claims.expires_at}

    def _packed(self, claims: SessionClaims) -> int:
        size = self.deps.tokens.packed_size(claims)
        if size > 100:
            raise PackedPolicyTooLarge(f"Packed size of session policies and session tags exceeds the limit "
                                       f"({size}% of the allowed size)")
        return size

    def _session_policies(self, partition: str, account: str, request: SessionRequest
                          ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        policies: tuple[str, ...] = ()
        if request.policy is not None:
            problems = validate(request.policy, kind=PolicyKind.SESSION)
            if problems:
                raise MalformedPolicyDocument(problems[0].message)
            policies = (request.policy,)
        arns = tuple(item["arn"] for item in request.policy_arns or () if item.get("arn"))
        if len(arns) > 10:
            raise AwsValidationError("1 validation error detected: Value at 'policyArns' failed to satisfy "
                                     "constraint: Member must have length less than or equal to 10")
        if arns:
            with self.store.read(account) as tx:
                for arn in arns:
                    if self._find(tx, partition, account, arn) is None:
                        raise MalformedPolicyDocument(f"Policy {arn} does not exist or is not attachable.")
        return policies, arns

    def _find(self, tx: UnitOfWork, partition: str, account: str, arn: str) -> Any:
        try:
            return find_policy(tx, self.deps.managed, partition, account, arn)
        except AwsError:  # an ARN that is not a policy ARN names no policy here
            return None

    def session_tags(self, caller: Caller, request: SessionRequest
                      ) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
        """Session tags: the caller's transitive tags (which cannot be overridden) plus the new ones."""
        inherited: dict[str, tuple[str, str]] = {}
        transitive: list[str] = []
        session = caller.session
        if session is not None:
            keys = {k.lower() for k in session.transitive_tag_keys}
            for tag in session.session_tags:
                if tag.key.lower() in keys:
                    inherited[tag.key.lower()] = (tag.key, tag.value)
            transitive = list(session.transitive_tag_keys)
        new: dict[str, tuple[str, str]] = {}
        for item in request.tags or ():
            key, value = item.get("Key", ""), item.get("Value", "")
            if key.lower() in new:
                raise InvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case "
                                            "insensitive.")
            if key.lower() in inherited:
                # AWS's wording (LocalStack's AWS-validated test_sts.snapshot.json, role chaining).
                raise InvalidParameterValue("One of the specified transitive tag keys can't be set because it "
                                            "conflicts with a transitive tag key from the calling session.")
            new[key.lower()] = (key, value)
        tags = list(inherited.values()) + list(new.values())
        if len(tags) > MAX_SESSION_TAGS:
            raise InvalidParameterValue(f"The number of session tags cannot exceed {MAX_SESSION_TAGS}.")
        for key in request.transitive_tag_keys or ():
            if key.lower() not in new:
                raise InvalidParameterValue("The specified transitive tag key must be included in the requested "
                                            "tags.")
            if key not in transitive:
                transitive.append(key)
        return tags, tuple(transitive)

    def _check_mfa(self, caller: Caller, serial_number: str | None, token_code: str | None) -> bool:
        if not serial_number or not token_code:
            raise AccessDenied("MultiFactorAuthentication failed, both SerialNumber and TokenCode are required.")
        # Wrong codes count toward the caller's sign-in lock; while it holds, a right code gets the same answer.
        outcome = self.deps.mfa.guess_code(caller, serial_number, token_code)
        if outcome is Guess.THROTTLED:
            raise Throttling("Rate exceeded")
        if outcome is not Guess.RIGHT:
            raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
        return True
