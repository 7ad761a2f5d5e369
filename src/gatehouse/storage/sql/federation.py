"""Identity providers (OIDC, SAML), SAML replay memory and outbound token issuers in SQL.

The look-ups that federated sign-in makes on every call (a provider by URL or name, an account's issuer and keys)
are prebuilt statements: constructing SQLAlchemy expressions costs more than running them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from gatehouse.model import OidcProvider, OutboundIssuer, SamlProvider, SigningKey
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo

_O, _S, _I, _K, _A = t.oidc_providers, t.saml_providers, t.outbound_issuers, t.outbound_keys, t.saml_assertions

_OIDC_BY_URL = select(_O).where(_O.c.account_id == bindparam("account"), _O.c.url == bindparam("url"))
_SAML_BY_NAME = select(_S).where(_S.c.account_id == bindparam("account"), _S.c.name_key == bindparam("name_key"))
_ISSUER = select(_I).where(_I.c.account_id == bindparam("account"))
_ISSUER_KEYS = select(_K).where(_K.c.account_id == bindparam("account")).order_by(_K.c.created, _K.c.kid)
_SEEN = insert(_A).values(provider_id=bindparam("provider"), assertion_id=bindparam("aid"),
                          expires=bindparam("expires"))
_FORGET_EXPIRED = delete(_A).where(_A.c.expires < bindparam("now"))


def _oidc(r: Any) -> OidcProvider:
    return OidcProvider(account_id=r.account_id, provider_id=r.provider_id, url=r.url, created=r.created,
                        client_ids=tuple(json.loads(r.client_ids)), thumbprints=tuple(json.loads(r.thumbprints)))


def _saml(r: Any) -> SamlProvider:
    return SamlProvider(account_id=r.account_id, provider_id=r.provider_id, name=r.name, metadata=r.metadata,
                        entity_id=r.entity_id, certificates=tuple(json.loads(r.certificates)), created=r.created,
                        valid_until=r.valid_until)


class SqlOidcProviders(_Repo):
    def get(self, url: str) -> OidcProvider | None:
        r = self.conn.execute(_OIDC_BY_URL, {"account": self.account_id, "url": url}).first()
        return _oidc(r) if r else None

    def all(self) -> list[OidcProvider]:
        rows = self.conn.execute(select(_O).where(_O.c.account_id == self.account_id).order_by(_O.c.url)).all()
        return [_oidc(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_O).where(
            _O.c.account_id == self.account_id)).scalar_one())

    def insert(self, provider: OidcProvider) -> None:
        self.conn.execute(insert(_O).values(
            provider_id=provider.provider_id, account_id=self.account_id, url=provider.url,
            client_ids=json.dumps(list(provider.client_ids)), thumbprints=json.dumps(list(provider.thumbprints)),
            created=provider.created))

    def update(self, provider: OidcProvider) -> None:
        self.conn.execute(update(_O).where(_O.c.provider_id == provider.provider_id).values(
            client_ids=json.dumps(list(provider.client_ids)), thumbprints=json.dumps(list(provider.thumbprints))))

    def delete(self, provider_id: str) -> None:
        self.conn.execute(delete(_O).where(_O.c.provider_id == provider_id))


class SqlSamlProviders(_Repo):
    def get(self, name: str) -> SamlProvider | None:
        r = self.conn.execute(_SAML_BY_NAME, {"account": self.account_id, "name_key": name.lower()}).first()
        return _saml(r) if r else None

    def all(self) -> list[SamlProvider]:
        rows = self.conn.execute(select(_S).where(_S.c.account_id == self.account_id)
                                 .order_by(_S.c.name_key)).all()
        return [_saml(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_S).where(
            _S.c.account_id == self.account_id)).scalar_one())

    def insert(self, provider: SamlProvider) -> None:
        self.conn.execute(insert(_S).values(
            provider_id=provider.provider_id, account_id=self.account_id, name=provider.name,
            name_key=provider.name.lower(), metadata=provider.metadata, entity_id=provider.entity_id,
            certificates=json.dumps(list(provider.certificates)), created=provider.created,
            valid_until=provider.valid_until))

    def update(self, provider: SamlProvider) -> None:
        self.conn.execute(update(_S).where(_S.c.provider_id == provider.provider_id).values(
            metadata=provider.metadata, entity_id=provider.entity_id,
            certificates=json.dumps(list(provider.certificates)), valid_until=provider.valid_until))

    def delete(self, provider_id: str) -> None:
        self.conn.execute(delete(_A).where(_A.c.provider_id == provider_id))
        self.conn.execute(delete(_S).where(_S.c.provider_id == provider_id))


class SqlOutboundIssuers(_Repo):
    def get(self) -> OutboundIssuer | None:
        return outbound_issuer(self.conn, self.account_id)

    def put(self, issuer: OutboundIssuer) -> None:
        """Insert or replace the issuer; keys are added, never rewritten (a key's kid is its identity)."""
        values = {"issuer": issuer.issuer, "enabled": issuer.enabled}
        done = self.conn.execute(update(_I).where(_I.c.account_id == self.account_id).values(**values))
        if not done.rowcount:
            self.conn.execute(insert(_I).values(account_id=self.account_id, **values))
        known = set(self.conn.execute(select(_K.c.kid).where(_K.c.account_id == self.account_id)).scalars())
        for key in issuer.keys:
            if key.kid not in known:
                self.conn.execute(insert(_K).values(
                    kid=key.kid, account_id=self.account_id, alg=key.alg, public_jwk=key.public_jwk,
                    sealed_private=key.sealed_private, created=key.created))
        wanted = {key.kid for key in issuer.keys}
        for kid in known - wanted:
            self.conn.execute(delete(_K).where(_K.c.kid == kid))


def outbound_issuer(conn: Connection, account_id: str) -> OutboundIssuer | None:
    r = conn.execute(_ISSUER, {"account": account_id}).first()
    if r is None:
        return None
    keys = tuple(SigningKey(kid=k.kid, alg=k.alg, public_jwk=k.public_jwk, sealed_private=bytes(k.sealed_private),
                            created=k.created)
                 for k in conn.execute(_ISSUER_KEYS, {"account": account_id}).all())
    return OutboundIssuer(account_id=r.account_id, issuer=r.issuer, enabled=bool(r.enabled), keys=keys)


def remember_assertion(conn: Connection, provider_id: str, assertion_id: str, expires: dt.datetime,
                       now: dt.datetime) -> bool:
    """Record an assertion id; False if it was already recorded (a replay). Expired ids are forgotten first, in a
    transaction of their own, so the table holds only what can still be replayed."""
    with conn.begin():
        conn.execute(_FORGET_EXPIRED, {"now": now})
    try:
        with conn.begin():
            conn.execute(_SEEN, {"provider": provider_id, "aid": assertion_id, "expires": expires})
    except IntegrityError:
        return False
    return True
