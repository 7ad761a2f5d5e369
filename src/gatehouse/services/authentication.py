"""Who signed this request? Resolves an access key id (and, for temporary credentials, its session token) to the
secret the wire layer checks the signature with, then names the caller.

Long-term keys live in storage, sealed. Temporary credentials (ASIA…) live nowhere but in their session token,
which is sealed under the master key and bound to its access key id (see `session_tokens`); the only thing stored
about them is a revocation, when a console session is signed out before it expires.

Last-used bookkeeping is throttled: a key's record is rewritten at most once a minute per region and service, so
authentication does not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gatehouse.errors import ExpiredToken, InvalidClientTokenId, SignatureDoesNotMatch
from gatehouse.model import (
    Caller,
    PrincipalKind,
    RequestMeta,
    SessionInfo,
    SessionKind,
    Tag,
    User,
    make_arn,
    partition_for_region,
)
from gatehouse.services.clock import Clock
from gatehouse.services.secretbox import SealedSecretError, SecretBox
from gatehouse.services.session_tokens import InvalidSessionToken, SessionClaims, SessionTokens
from gatehouse.storage.repository import Store

_LAST_USED_GRANULARITY = dt.timedelta(minutes=1)

# What temporary credentials may call, as AWS documents for GetSessionToken and GetFederationToken sessions.
_STS_FOR_USER_SESSIONS = frozenset({"AssumeRole", "GetCallerIdentity"})
_STS_FOR_FEDERATED = frozenset({"GetCallerIdentity"})


@dataclass(frozen=True, slots=True)
class Credential:
    """An active credential: the secret to check the signature with, and whose it is."""

    access_key_id: str
    secret: str
    account_id: str
    user: User | None  # the IAM user (long-term key or user session); None for the root or a role session
    account_revision: int
    partition: str  # the account's: every ARN of the caller is in it, whatever region the request was signed for
    last_used: dt.datetime | None = None
    last_used_region: str | None = None
    last_used_service: str | None = None
    claims: SessionClaims | None = None
    org: tuple[str, int] | None = None  # the account's organization and its revision

    def __repr__(self) -> str:  # never print the secret
        return f"Credential({self.access_key_id!r}, account={self.account_id!r})"


class Authenticator:
    def __init__(self, store: Store, box: SecretBox, clock: Clock, tokens: SessionTokens) -> None:
        self.store = store
        self.box = box
        self.clock = clock
        self.tokens = tokens

    def resolve(self, access_key_id: str, security_token: str | None = None) -> Credential:
        if not (access_key_id.isascii() and access_key_id.isprintable()):
            # No key id has such characters; and a NUL must not reach the database (PostgreSQL refuses it in text,
            # which would turn an unauthenticated request into an internal failure).
            raise InvalidClientTokenId()
        if security_token is not None or access_key_id.startswith("ASIA"):
            return self._session(access_key_id, security_token)
        record = self.store.credential(access_key_id)
        if record is None or record.key.status != "Active":
            raise InvalidClientTokenId()
        try:
            secret = self.box.open(record.key.sealed_secret, record.key.access_key_id)
        except SealedSecretError:
            # Sealed under another master key: the key cannot be used, and the client learns nothing more.
            raise InvalidClientTokenId() from None
        key = record.key
        return Credential(access_key_id=key.access_key_id, secret=secret, account_id=key.account_id,
                          user=record.user, account_revision=record.account_revision, partition=record.partition,
                          org=record.org, last_used=key.last_used,
                          last_used_region=key.last_used_region, last_used_service=key.last_used_service)

    def _session(self, access_key_id: str, token: str | None) -> Credential:
        if not token:
            raise InvalidClientTokenId()
        try:
            claims = self.tokens.open(access_key_id, token)
        except InvalidSessionToken:
            raise InvalidClientTokenId() from None
        if self.clock().timestamp() >= claims.expires:
            raise ExpiredToken()
        # The account's revision and the session's revocation (sign-out, or its workload revoked) come in one
        # query: a signed-out console session's or a revoked workload's credentials are refused on every replica,
        # and temporary credentials cost no extra round trip.
        state = self.store.session_state(claims.account_id, access_key_id, claims.workload)
        if state is None or state.revoked:
            raise InvalidClientTokenId()
        user = None
        if claims.kind in (SessionKind.USER_SESSION, SessionKind.FEDERATED_USER) and claims.principal_id:
            with self.store.read(claims.account_id) as tx:
                user = tx.users.by_id(claims.principal_id)
            if user is None:  # the user who made the session is gone
                raise InvalidClientTokenId()
        return Credential(access_key_id=access_key_id, secret=claims.secret_access_key, account_id=claims.account_id,
                          user=user, account_revision=state.revision, partition=state.partition, claims=claims,
                          org=state.org)

    def caller(self, credential: Credential, request: RequestMeta) -> Caller:
        """The principal behind a verified signature. The partition is the account's: a request signed for a
        region of another partition is refused as AWS refuses a credential scoped to a region it does not serve,
        so no signing region can move the caller's ARNs (and every resource ARN built for it) out of the partition
        its policies name."""
        partition, account = credential.partition, credential.account_id
        if partition_for_region(request.region) != partition:
            raise SignatureDoesNotMatch(f"Credential should be scoped to a valid region, not '{request.region}'. ")
        claims = credential.claims
        session = _session_info(claims) if claims else None
        kind, arn, user_id, name, principal_id = _principal(credential, partition)
        return Caller(account_id=account, kind=kind, arn=arn, user_id=user_id, name=name,
                      access_key_id=credential.access_key_id, request=request, partition=partition,
                      principal_id=principal_id, session=session, revision=credential.account_revision,
                      org=credential.org, org_known=True)

    def account_root(self, account_id: str, request: RequestMeta) -> Caller:
        """The root user of an account, without a credential: development mode's auth switch serves a request it
        lets through (with a key it does not know) as the development account's root, as moto does."""
        with self.store.read(account_id) as tx:
            account = tx.accounts.get(account_id)
        partition = account.partition if account else "aws"
        return Caller(account_id=account_id, kind=PrincipalKind.ROOT,
                      arn=make_arn(partition, "iam", account_id, "root"), user_id=account_id, name="root",
                      access_key_id="", request=request, partition=partition,
                      revision=account.revision if account else -1)

    def anonymous(self, request: RequestMeta) -> Caller:
        """The caller of an unsigned request (the operations whose token or assertion is the credential)."""
        return Caller(account_id="", kind=PrincipalKind.ANONYMOUS, arn="", user_id="", name="anonymous",
                      access_key_id="", request=request)

    def admit(self, caller: Caller, service: str, action: str) -> None:
        """Temporary credentials from GetSessionToken (without MFA) and GetFederationToken may call only a few
        APIs; AWS answers anything else as if the token were not valid for it."""
        session = caller.session
        if session is None or session.kind == SessionKind.ASSUMED_ROLE:
            return
        if session.kind == SessionKind.FEDERATED_USER:
            allowed = service == "sts" and action in _STS_FOR_FEDERATED
        elif service == "sts":
            allowed = action in _STS_FOR_USER_SESSIONS
        else:
            allowed = service not in ("iam", "gatehouse") or session.mfa_authenticated
        if not allowed:
            raise InvalidClientTokenId()

    def record_use(self, credential: Credential, region: str, service: str) -> None:
        if credential.claims is not None:
            return  # temporary credentials are not tracked
        now = self.clock().replace(microsecond=0)
        if (credential.last_used is not None and now - credential.last_used < _LAST_USED_GRANULARITY
                and credential.last_used_region == region and credential.last_used_service == service):
            return
        self.store.record_key_use(credential.access_key_id, now, region, service)


def _principal(credential: Credential, partition: str) -> tuple[PrincipalKind, str, str, str, str | None]:
    """(kind, ARN, user id, name, principal id) of a credential's principal."""
    user, claims, account = credential.user, credential.claims, credential.account_id
    if claims is not None and claims.kind == SessionKind.ASSUMED_ROLE:
        arn = make_arn(partition, "sts", account, f"assumed-role/{claims.role_name}/{claims.session_name}")
        return (PrincipalKind.ASSUMED_ROLE, arn, f"{claims.principal_id}:{claims.session_name}",
                claims.session_name or "", claims.principal_id)
    if claims is not None and claims.kind == SessionKind.FEDERATED_USER:
        arn = make_arn(partition, "sts", account, f"federated-user/{claims.session_name}")
        return (PrincipalKind.FEDERATED_USER, arn, f"{account}:{claims.session_name}", claims.session_name or "",
                claims.principal_id)
    if user is None:
        return PrincipalKind.ROOT, make_arn(partition, "iam", account, "root"), account, "root", None
    return PrincipalKind.USER, user.arn(partition), user.user_id, user.name, user.user_id


def _session_info(claims: SessionClaims) -> SessionInfo:
    return SessionInfo(
        kind=claims.kind, issued=claims.issued_at, expires=claims.expires_at, role_name=claims.role_name,
        session_name=claims.session_name, mfa_authenticated=claims.mfa,
        mfa_time=dt.datetime.fromtimestamp(claims.mfa_time, dt.UTC) if claims.mfa_time else None,
        source_identity=claims.source_identity, session_policies=claims.policies, policy_arns=claims.policy_arns,
        session_tags=tuple(Tag(k, v) for k, v in claims.tags), transitive_tag_keys=claims.transitive_tag_keys,
        chained=claims.chained, workload=claims.workload)
