"""Workloads: running programs that get short-lived role credentials with no stored key (issue 14).

An administrator registers a workload under an instance profile (`RegisterWorkload`, Gatehouse's own JSON
operation); Gatehouse answers a random bearer token once (256 bits; only its SHA-256 is kept) and the credentials
URI. The program's SDK reads that URI and token from AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN, as on ECS, and gets a role session of the profile's role named after the
workload id (`credentials_for_token`). `gatehouse workload serve-metadata` gets the same sessions through the signed
`GetWorkloadCredentials` and serves them as IMDSv2 does.

Sessions come from the one issuer of role sessions (`Sts.plan_role_session` + `Sts.issue_role_session`), carry the
workload's tags as session tags (aws:PrincipalTag/*) and the workload's internal id, which authentication checks
against the store on every request (in the same query as the account's revision): revoking a workload stops its
sessions at once, on every replica. The role's current instance profile membership and trust policy are read on
every issue, so removing the role from the profile stops new issues at once. The role must trust
ec2.amazonaws.com, as EC2 requires of an instance profile's role.

A set of credentials is reused while at least half its lifetime and 16 minutes remain: an SDK refreshing 15 minutes
before Expiration (botocore's advisory window) always gets a fresh set, and many processes sharing one token do
not each mint a session per fetch.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from gatehouse.errors import AccessDenied, AwsError, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from gatehouse.errors import ValidationError as AwsValidationError
from gatehouse.model import Caller, InstanceProfile, OwnerKind, Role, Tag, Workload, make_arn
from gatehouse.policy import PolicyKind, Principal
from gatehouse.services.authorization import Authorizer, iso8601
from gatehouse.services.clock import Clock, whole_seconds
from gatehouse.services.iam.common import checked_tags, merged_tags, without_tags
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts, Target
from gatehouse.services.sts import SessionRequest, Sts
from gatehouse.storage.repository import Duplicate, Store, UnitOfWork

EC2 = "ec2.amazonaws.com"
DEFAULT_TTL = 3600
MAX_WORKLOADS = 1000  # per account
TOKEN_PREFIX = "ghw_"
_REUSE_AT_LEAST = 16 * 60  # seconds a reused set must still have (botocore refreshes 15 minutes before expiry)
_CACHE_ENTRIES = 10_000


def new_token() -> str:
    """A bearer token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token (its SHA-256): a leaked database gives nobody a working token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class CredentialsRefused(Exception):
    """The credentials endpoint gives nothing: `status` 401 (no token, or not a valid one) or 403 (a valid token
    whose workload cannot get a session now: the role left the profile, or no longer trusts EC2)."""

    def __init__(self, status: int, message: str, workload: Workload | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.workload = workload


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A role session for a workload, in STS's shape (`Credentials`, `AssumedRoleUser`) plus the role's ARN."""

    workload: Workload
    role_arn: str
    result: dict[str, Any]
    reused: bool

    @property
    def access_key_id(self) -> str:
        return str(self.result["Credentials"]["AccessKeyId"])

    def container_credentials(self) -> dict[str, str]:
        """The JSON the AWS SDKs read from a container credentials endpoint."""
        creds = self.result["Credentials"]
        return {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                "Token": creds["SessionToken"], "Expiration": iso8601(creds["Expiration"]),
                "RoleArn": self.role_arn}


@dataclass(frozen=True, slots=True)
class _Cached:
    key: tuple[Any, ...]  # what the session was made from: another key means another session
    expires: int
    duration: int
    session: IssuedSession


class Workloads:
    """The `gatehouse` service's workload operations, and the credentials endpoint's use case."""

    def __init__(self, store: Store, authz: Authorizer, sts: Sts, clock: Clock, credentials_uri: str) -> None:
        self.store = store
        self.authz = authz
        self.sts = sts
        self.clock = clock
        self.credentials_uri = credentials_uri
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    # --- operations --------------------------------------------------------------------------------------------

    @operation
    def register_workload(self, caller: Caller, instance_profile_name: str, workload_id: str | None = None,
                          ttl_seconds: int | None = None, tags: list[dict[str, str]] | None = None
                          ) -> dict[str, Any]:
        workload_id = workload_id or "wl-" + secrets.token_hex(8)
        new_tags = checked_tags(tags, OwnerKind.WORKLOAD)
        token = new_token()
        with self.store.write(caller.account_id) as tx:
            self.authz.require(tx, caller, "gatehouse:RegisterWorkload",
                               Target(self._arn(caller, workload_id), OwnerKind.WORKLOAD, lambda: ()),
                               facts=RequestFacts(tags=new_tags))
            profile = tx.profiles.get(instance_profile_name)
            if profile is None:
                raise NoSuchEntity(f"Instance Profile {instance_profile_name} cannot be found.")
            role = self._role_of(tx, profile)
            if role is None:
                raise AwsValidationError(f"Instance Profile {profile.name} has no role.")
            self._require_pass_role(tx, caller, role)
            if ttl_seconds is not None and ttl_seconds > role.max_session_duration:
                raise AwsValidationError("The requested TtlSeconds exceeds the MaxSessionDuration set for this "
                                         "role.")
            if not self._trusts_ec2(role):
                raise AwsValidationError(f"The trust policy of role {role.name} does not allow {EC2} to assume it, "
                                         f"as an instance profile's role must.")
            ttl = ttl_seconds or min(DEFAULT_TTL, role.max_session_duration)
            self._check_fits(role, workload_id, new_tags, ttl)
            existing = tx.workloads.get(workload_id)
            if existing is not None:
                if existing.revoked_at is None:
                    raise EntityAlreadyExists(f"Workload {existing.workload_id} already exists.")
                tx.workloads.delete(existing.uid)  # its id is free again; its sessions stay refused (by uid)
            if tx.workloads.count() >= MAX_WORKLOADS:
                raise LimitExceeded(f"Cannot exceed quota for WorkloadsPerAccount: {MAX_WORKLOADS}")
            workload = Workload(
                account_id=caller.account_id, uid=secrets.token_hex(16), workload_id=workload_id,
                profile_id=profile.profile_id, profile_name=profile.name, token_hash=token_hash(token),
                ttl_seconds=ttl,
                created=whole_seconds(self.clock), tags=tuple(new_tags))
            try:
                tx.workloads.insert(workload)
            except Duplicate:
                raise EntityAlreadyExists(f"Workload {workload_id} already exists.") from None
            view = self._view(caller, workload, role)
        return {"WorkloadId": workload.workload_id, "Token": token, "CredentialsUri": self.credentials_uri,
                "Workload": view}

    @operation
    def list_workloads(self, caller: Caller) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "gatehouse:ListWorkloads", self._arn(caller, "*"))
            found = tx.workloads.all()
            return {"Workloads": [self._view(caller, w, self._current_role(tx, w)) for w in found]}

    @operation
    def get_workload(self, caller: Caller, workload_id: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            workload = self._found(tx, caller, "gatehouse:GetWorkload", workload_id)
            return {"Workload": self._view(caller, workload, self._current_role(tx, workload))}

    @operation
    def revoke_workload(self, caller: Caller, workload_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            workload = self._found(tx, caller, "gatehouse:RevokeWorkload", workload_id)
            tx.workloads.revoke(workload.uid, whole_seconds(self.clock))
        with self._lock:
            self._cache.pop(workload.uid, None)
        return {}

    @operation
    def tag_workload(self, caller: Caller, workload_id: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        new = checked_tags(tags, OwnerKind.WORKLOAD)
        with self.store.write(caller.account_id) as tx:
            workload = self._found(tx, caller, "gatehouse:TagWorkload", workload_id, RequestFacts(tags=new))
            merged = merged_tags(workload.tags, new, OwnerKind.WORKLOAD)
            role = self._current_role(tx, workload)
            if role is not None:
                self._check_fits(role, workload.workload_id, merged, min(workload.ttl_seconds,
                                                                         role.max_session_duration))
            tx.workloads.set_tags(workload.uid, merged)
        return {}

    @operation
    def untag_workload(self, caller: Caller, workload_id: str, tag_keys: list[str]) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            workload = self._found(tx, caller, "gatehouse:UntagWorkload", workload_id,
                                   RequestFacts(tag_keys=tag_keys))
            tx.workloads.set_tags(workload.uid, without_tags(workload.tags, tag_keys, OwnerKind.WORKLOAD))
        return {}

    @operation
    def get_workload_credentials(self, caller: Caller, workload_id: str) -> dict[str, Any]:
        """A session for a caller allowed gatehouse:GetWorkloadCredentials on the workload and iam:PassRole on its
        role (whoever could register it): what the metadata listener uses instead of holding the token."""
        with self.store.read(caller.account_id) as tx:
            workload = self._found(tx, caller, "gatehouse:GetWorkloadCredentials", workload_id)
            if workload.revoked_at is not None:
                raise AccessDenied(f"Workload {workload.workload_id} is revoked.")
            role = self._current_role(tx, workload)
            if role is None:
                raise AccessDenied(f"Instance Profile {workload.profile_name} of workload {workload.workload_id} "
                                   f"has no role.")
            self._require_pass_role(tx, caller, role)
        try:
            session = self._issue(workload, caller.request.region)
        except CredentialsRefused as refused:
            raise AccessDenied(refused.message) from None
        return {"Credentials": session.result["Credentials"], "RoleArn": session.role_arn,
                "AssumedRoleUser": session.result["AssumedRoleUser"]}

    # --- the credentials endpoint --------------------------------------------------------------------------

    def credentials_for_token(self, token: str | None, region: str = "us-east-1") -> IssuedSession:
        """The session for the workload whose token this is; `CredentialsRefused` otherwise."""
        if not token:
            raise CredentialsRefused(401, "An authorization token is required.")
        digest = token_hash(token)
        workload = self.store.workload_by_token(digest)
        # The row was found by its hash; compared again in constant time, so nothing depends on how much matched.
        if workload is None or not hmac.compare_digest(workload.token_hash, digest):
            raise CredentialsRefused(401, "The authorization token is not valid.")
        if workload.revoked_at is not None:
            raise CredentialsRefused(401, "The authorization token is not valid.", workload)
        return self._issue(workload, region)

    # --- shared pieces --------------------------------------------------------------------------------------

    def _issue(self, workload: Workload, region: str) -> IssuedSession:
        with self.store.read(workload.account_id) as tx:
            role = self._current_role(tx, workload)
        if role is None:
            raise CredentialsRefused(403, f"Instance Profile {workload.profile_name} has no role.", workload)
        if not self._trusts_ec2(role):
            raise CredentialsRefused(403, f"Role {role.name} does not trust {EC2}.", workload)
        duration = min(workload.ttl_seconds, role.max_session_duration)
        key = (role.role_id, role.name, duration, workload.tags)
        now = int(self.clock().timestamp())
        with self._lock:
            cached = self._cache.get(workload.uid)
            if cached is not None and cached.key == key and cached.expires - now >= max(
                    cached.duration // 2, _REUSE_AT_LEAST):
                self._cache.move_to_end(workload.uid)
                return replace(cached.session, reused=True)
        try:
            plan = self.sts.plan_role_session(
                None, role, workload.workload_id, SessionRequest(),
                [(tag.key, tag.value) for tag in workload.tags], duration_seconds=duration, workload=workload.uid,
                region=region)
        except AwsError as e:  # the session cannot be made as registered (its tags no longer fit, ...)
            raise CredentialsRefused(403, e.message, workload) from None
        result = self.sts.issue_role_session(plan)
        session = IssuedSession(workload, role.arn(plan.partition), result, reused=False)
        with self._lock:
            self._cache[workload.uid] = _Cached(key, plan.claims.expires, duration, session)
            self._cache.move_to_end(workload.uid)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return session

    def _check_fits(self, role: Role, workload_id: str, tags: Sequence[Tag], ttl: int) -> None:
        """Refuse, at registration or tagging, a workload whose sessions could not be issued (AWS's
        PackedPolicyTooLarge when the tags do not fit a session): planning a session checks it, writing nothing."""
        self.sts.plan_role_session(None, role, workload_id, SessionRequest(), [(t.key, t.value) for t in tags],
                                   duration_seconds=ttl)

    @staticmethod
    def _role_of(tx: UnitOfWork, profile: InstanceProfile) -> Role | None:
        return tx.roles.by_id(profile.role_ids[0]) if profile.role_ids else None

    def _current_role(self, tx: UnitOfWork, workload: Workload) -> Role | None:
        """The role of the workload's instance profile now (None when the profile is gone, was replaced by another
        of the same name, or holds no role)."""
        profile = tx.profiles.get(workload.profile_name)
        if profile is None or profile.profile_id != workload.profile_id:
            return None
        return self._role_of(tx, profile)

    def _trusts_ec2(self, role: Role) -> bool:
        trust = self.authz.compile(role.trust_policy, "trust policy", PolicyKind.TRUST, role.trust_principals)
        if trust is None:
            return False
        now = self.clock()
        partition = self.sts.partition_of(role.account_id)
        target = Target(role.arn(partition), OwnerKind.ROLE, lambda: (), role.permissions_boundary)
        decision, _ = self.authz.decide_federated(
            Principal.from_arn(EC2), "sts:AssumeRole", target, trust,
            {"aws:CurrentTime": iso8601(now), "aws:EpochTime": str(int(now.timestamp()))},
            RequestFacts(), role.account_id)
        return decision.allowed

    def _require_pass_role(self, tx: UnitOfWork, caller: Caller, role: Role) -> None:
        """Handing a role to a workload passes it, as putting it in an instance profile does."""
        tags = tx.tags.get(OwnerKind.ROLE, role.role_id)
        self.authz.require(tx, caller, "iam:PassRole",
                           Target(role.arn(caller.partition), OwnerKind.ROLE, lambda: tags, role.permissions_boundary),
                           facts=RequestFacts(passed_to_service=EC2))

    def _found(self, tx: UnitOfWork, caller: Caller, action: str, workload_id: str,
               facts: RequestFacts | None = None) -> Workload:
        """Look up, then authorize what was found (or the ARN asked for, so absence is not told to the unallowed)."""
        workload = tx.workloads.get(workload_id)
        arn = self._arn(caller, workload.workload_id if workload else workload_id)
        tags = workload.tags if workload else ()
        self.authz.require(tx, caller, action, Target(arn, OwnerKind.WORKLOAD, lambda: tags), facts=facts)
        if workload is None:
            raise NoSuchEntity(f"Workload {workload_id} cannot be found.")
        return workload

    @staticmethod
    def _arn(caller: Caller, workload_id: str) -> str:
        return make_arn(caller.partition, "gatehouse", caller.account_id, f"workload/{workload_id}")

    @staticmethod
    def _view(caller: Caller, workload: Workload, role: Role | None) -> dict[str, Any]:
        view: dict[str, Any] = {
            "WorkloadId": workload.workload_id, "Arn": workload.arn(caller.partition),
            "InstanceProfileName": workload.profile_name, "TtlSeconds": workload.ttl_seconds,
            "Status": "Revoked" if workload.revoked_at else "Active", "CreateDate": workload.created,
            "Tags": [{"Key": t.key, "Value": t.value} for t in workload.tags]}
        if role is not None:
            view["RoleName"] = role.name
        if workload.revoked_at is not None:
            view["RevokeDate"] = workload.revoked_at
        return view

