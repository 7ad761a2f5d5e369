"""Outbound web identity federation: Gatehouse as an OIDC issuer for its own principals.

IAM `EnableOutboundWebIdentityFederation` gives the account an issuer URL and signing keys;
`DisableOutboundWebIdentityFederation` stops token vending (and the publication of the keys);
`GetOutboundWebIdentityFederationInfo` reports both. STS `GetWebIdentityToken` signs a short-lived JWT naming the
caller, which any relying party can verify through the issuer's discovery document and JWKS (served unauthenticated
by the wire layer from `discovery` and `jwks`).

The issuer URL is `<base>/accounts/<account id>`, where the base is the operator's: `--public-url`, or in `--dev`
without one the server's own listening address. Never anything a request says (its Host header): whoever sent it
would choose the issuer every relying party pins. Outside `--dev`, enabling without a public URL is refused with
an error naming the flag. The issuer is derived from the current settings whenever it is used, so a changed public
URL applies on the next start (relying parties must then trust the new issuer); the documents are served only at
each account's own issuer path.
Claims follow AWS's token format ("Understanding token claims"): standard `iss`, `sub`, `aud`, `iat`, `exp`, `jti`,
and AWS identity claims under the `https://sts.amazonaws.com/` namespace.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gatehouse.errors import (
    FeatureDisabled,
    FeatureEnabled,
    InvalidInput,
    JWTPayloadSizeExceeded,
    OutboundWebIdentityFederationDisabled,
    SessionDurationEscalation,
)
from gatehouse.errors import ValidationError as AwsValidationError
from gatehouse.model import Caller, OutboundIssuer, OwnerKind, PrincipalKind, Tag, make_arn
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import Clock
from gatehouse.services.federation.outbound_keys import ALGORITHMS, TokenSigner, generate_keys, jwks
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.services.secretbox import SecretBox
from gatehouse.storage.repository import Store, UnitOfWork

AWS_CLAIMS = "https://sts.amazonaws.com/"
DEFAULT_DURATION = 300
MAX_PAYLOAD = 8192
ISSUER_PATH = "/accounts/{account}"
ENABLED_ALREADY = ("The request failed because outbound identity federation is already enabled for your AWS account. "
                   "You cannot enable the feature multiple times. To fetch the current configuration (including "
                   "the unique issuer URL), use the GetOutboundWebIdentityFederationInfo operation.")
NO_PUBLIC_URL = ("Outbound identity federation needs this server's public URL to name the account's token issuer: "
                 "start gatehouse serve with --public-url URL (or GATEHOUSE_PUBLIC_URL).")
DISABLED_ALREADY = ("The request failed because outbound identity federation is already disabled for your AWS "
                    "account. You cannot disable the feature multiple times.")


@dataclass(frozen=True)
class OutboundDeps:
    store: Store
    authz: Authorizer
    box: SecretBox
    clock: Clock
    public_url: str | None = None  # the issuers' base (`issuer_base`): None when no URL is configured


def issuer_base(public_url: str | None, dev: bool, host: str, port: int) -> str | None:
    """The base of every account's issuer URL: the configured public URL; in development mode without one, the
    address the server listens on (a wildcard address is reached as loopback); otherwise none."""
    if public_url:
        return public_url.rstrip("/")
    if not dev:
        return None
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class OutboundFederation:
    def __init__(self, deps: OutboundDeps) -> None:
        self.deps = deps
        self.store = deps.store
        self.authz = deps.authz
        self.signer = TokenSigner(deps.box)

    # --- IAM -----------------------------------------------------------------------------------------------

    @operation
    def enable_outbound_web_identity_federation(self, caller: Caller, **_: Any) -> dict[str, Any]:
        account = caller.account_id
        with self.store.read(account) as tx:
            self.authz.require(tx, caller, "iam:EnableOutboundWebIdentityFederation", "*")
            current = tx.outbound.get()
        if current is not None and current.enabled:
            raise FeatureEnabled(ENABLED_ALREADY)
        issuer = self._issuer_url(account)
        keys = current.keys if current is not None else generate_keys(self.deps.box, account, self.deps.clock())
        with self.store.write(account) as tx:
            self.authz.require(tx, caller, "iam:EnableOutboundWebIdentityFederation", "*")
            now = tx.outbound.get()
            if now is not None and now.enabled:
                raise FeatureEnabled(ENABLED_ALREADY)
            tx.outbound.put(OutboundIssuer(account_id=account, issuer=issuer, enabled=True, keys=keys))
        return {"IssuerIdentifier": issuer}

    @operation
    def disable_outbound_web_identity_federation(self, caller: Caller, **_: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            self.authz.require(tx, caller, "iam:DisableOutboundWebIdentityFederation", "*")
            current = tx.outbound.get()
            if current is None or not current.enabled:
                raise FeatureDisabled(DISABLED_ALREADY)
            tx.outbound.put(OutboundIssuer(account_id=current.account_id, issuer=current.issuer, enabled=False,
                                           keys=current.keys))
        return {}

    @operation
    def get_outbound_web_identity_federation_info(self, caller: Caller, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "iam:GetOutboundWebIdentityFederationInfo", "*")
            current = tx.outbound.get()
        if current is None:
            raise FeatureDisabled("Outbound identity federation is not enabled for your AWS account.")
        return {"IssuerIdentifier": self._issuer_url(caller.account_id), "JwtVendingEnabled": current.enabled}

    # --- STS -----------------------------------------------------------------------------------------------

    @operation
    def get_web_identity_token(self, caller: Caller, audience: list[str], signing_algorithm: str,
                               duration_seconds: int | None = None, tags: list[dict[str, str]] | None = None,
                               **_: Any) -> dict[str, Any]:
        if signing_algorithm not in ALGORITHMS:
            raise AwsValidationError(f"1 validation error detected: Value '{signing_algorithm}' at "
                                     f"'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum "
                                     f"value set: [{', '.join(ALGORITHMS)}]")
        duration = duration_seconds or DEFAULT_DURATION
        request_tags = _request_tags(tags)
        facts = RequestFacts(tags=request_tags, audiences=audience, duration_seconds=duration,
                             signing_algorithm=signing_algorithm)
        with self.store.read(caller.account_id) as tx:
            self.authz.require(tx, caller, "sts:GetWebIdentityToken", "*", facts=facts)
            issuer = tx.outbound.get()
            subject, principal_tags = self._subject(tx, caller)
        if issuer is None or not issuer.enabled:
            raise OutboundWebIdentityFederationDisabled()
        issuer_url = self._issuer_url(caller.account_id)
        now = int(self.deps.clock().timestamp())
        session = caller.session
        if session is not None and now + duration > int(session.expires.timestamp()):
            raise SessionDurationEscalation("The requested token duration would extend the session beyond its "
                                            "original expiration time.")
        identity: dict[str, Any] = {"aws_account": caller.account_id, "source_region": caller.request.region,
                                    "principal_id": subject}
        if principal_tags:
            identity["principal_tags"] = {t.key: t.value for t in principal_tags}
        if request_tags:
            identity["request_tags"] = {t.key: t.value for t in request_tags}
        claims: dict[str, Any] = {"iss": issuer_url, "sub": subject,
                                  "aud": audience[0] if len(audience) == 1 else list(audience),
                                  "iat": now, "exp": now + duration, "jti": str(uuid.uuid4()), AWS_CLAIMS: identity}
        if len(json.dumps(claims)) > MAX_PAYLOAD:
            raise JWTPayloadSizeExceeded("The requested token payload size exceeds the maximum allowed size. Reduce "
                                         "the number of request tags included in the GetWebIdentityToken API call "
                                         "to reduce the token payload size.")
        token = self.signer.sign(issuer, signing_algorithm, claims)
        return {"WebIdentityToken": token, "Expiration": dt.datetime.fromtimestamp(now + duration, dt.UTC)}

    # --- the issuer's public documents ----------------------------------------------------------------------

    @property
    def path_prefix(self) -> str | None:
        """The path every issuer URL starts with (the public URL's path: "" for none); None when no issuer can be
        named, so nothing is published."""
        base = self.deps.public_url
        return urlsplit(base).path.rstrip("/") if base else None

    def discovery(self, account_id: str) -> dict[str, Any] | None:
        issuer = self._published(account_id)
        if issuer is None or self.deps.public_url is None:
            return None
        url = self._issuer_url(account_id)
        return {"issuer": url, "jwks_uri": url + "/.well-known/jwks.json",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": sorted({k.alg for k in issuer.keys}),
                "claims_supported": ["aud", "exp", "iat", "iss", "jti", "sub", AWS_CLAIMS]}

    def jwks(self, account_id: str) -> dict[str, Any] | None:
        issuer = self._published(account_id)
        return jwks(issuer) if issuer is not None and self.deps.public_url is not None else None

    def _published(self, account_id: str) -> OutboundIssuer | None:
        if not (len(account_id) == 12 and account_id.isdigit()):
            return None
        with self.store.read(account_id) as tx:
            issuer = tx.outbound.get()
        return issuer if issuer is not None and issuer.enabled else None

    # --- helpers ---------------------------------------------------------------------------------------------

    def _issuer_url(self, account_id: str) -> str:
        base = self.deps.public_url
        if not base:
            raise InvalidInput(NO_PUBLIC_URL)
        return base + ISSUER_PATH.format(account=account_id)

    def _subject(self, tx: UnitOfWork, caller: Caller) -> tuple[str, tuple[Tag, ...]]:
        """The token's subject (for a role session, the role's ARN, as AWS's tokens name it) and principal tags."""
        partition = caller.partition
        if caller.kind is PrincipalKind.ASSUMED_ROLE and caller.principal_id:
            role = tx.roles.by_id(caller.principal_id)
            if role is not None:
                tags = {t.key.lower(): t for t in tx.tags.get(OwnerKind.ROLE, role.role_id)}
                if caller.session is not None:
                    tags.update({t.key.lower(): t for t in caller.session.session_tags})
                return role.arn(partition), tuple(tags.values())
            name = caller.session.role_name if caller.session else ""
            return make_arn(partition, "iam", caller.account_id, f"role/{name}"), ()
        if caller.kind is PrincipalKind.USER and caller.principal_id:
            return caller.arn, tx.tags.get(OwnerKind.USER, caller.principal_id)
        return caller.arn, ()


def _request_tags(tags: list[dict[str, str]] | None) -> list[Tag]:
    out: list[Tag] = []
    seen: set[str] = set()
    for item in tags or ():
        key, value = item.get("Key", ""), item.get("Value", "")
        if key.lower() in seen:
            raise AwsValidationError("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        seen.add(key.lower())
        out.append(Tag(key, value))
    return out
