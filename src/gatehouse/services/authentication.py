"""Who signed this request? Resolves an access key id to its secret and principal for the wire layer's SigV4
check, then names the caller. Temporary credentials (ASIA… with a session token) are added by the STS issue.

Last-used bookkeeping is throttled: a key's record is rewritten at most once a minute per region and service, so
authentication does not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gatehouse.errors import InvalidClientTokenId
from gatehouse.model import Caller, PrincipalKind, RequestMeta, User, make_arn
from gatehouse.services.clock import Clock
from gatehouse.services.secretbox import SealedSecretError, SecretBox
from gatehouse.storage.repository import Store

_LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Credential:
    """A verified-to-exist, active credential: the secret to check the signature with, and whose it is."""

    access_key_id: str
    secret: str
    account_id: str
    user: User | None  # None: the account root
    account_revision: int
    last_used: dt.datetime | None
    last_used_region: str | None
    last_used_service: str | None

    def __repr__(self) -> str:  # never print the secret
        return f"Credential({self.access_key_id!r}, account={self.account_id!r})"


class Authenticator:
    def __init__(self, store: Store, box: SecretBox, clock: Clock) -> None:
        self.store = store
        self.box = box
        self.clock = clock

    def resolve(self, access_key_id: str, security_token: str | None = None) -> Credential:
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
                          user=record.user, account_revision=record.account_revision, last_used=key.last_used,
                          last_used_region=key.last_used_region, last_used_service=key.last_used_service)

    def caller(self, credential: Credential, request: RequestMeta) -> Caller:
        partition = request.partition
        user = credential.user
        if user is None:
            return Caller(account_id=credential.account_id, kind=PrincipalKind.ROOT,
                          arn=make_arn(partition, "iam", credential.account_id, "root"),
                          user_id=credential.account_id, name="root", access_key_id=credential.access_key_id,
                          request=request, revision=credential.account_revision)
        return Caller(account_id=credential.account_id, kind=PrincipalKind.USER, arn=user.arn(partition),
                      user_id=user.user_id, name=user.name, access_key_id=credential.access_key_id,
                      request=request, principal_id=user.user_id, revision=credential.account_revision)

    def record_use(self, credential: Credential, region: str, service: str) -> None:
        now = self.clock().replace(microsecond=0)
        if (credential.last_used is not None and now - credential.last_used < _LAST_USED_GRANULARITY
                and credential.last_used_region == region and credential.last_used_service == service):
            return
        self.store.record_key_use(credential.access_key_id, now, region, service)
