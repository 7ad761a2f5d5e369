"""Validating an OIDC web identity token (a JWT, RFC 7519) for AssumeRoleWithWebIdentity.

Steps, in AWS's order: the token must be a JWS we can read (its unverified `iss` names the provider to look up);
its signature must verify with one of the issuer's published keys under an asymmetric algorithm (never `none`,
never an HMAC, whose "secret" would be the public key); then `iss`, `aud` (one of the provider's client ids),
`exp`, `nbf` and `iat` (with a small allowance for clock skew) and a `sub`. Errors carry AWS's codes and wording.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from gatehouse.errors import ExpiredTokenException, IDPCommunicationError, InvalidIdentityToken
from gatehouse.model import OidcProvider
from gatehouse.services.federation.https_fetch import FetchError
from gatehouse.services.federation.issuer_keys import IssuerKeys

ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
SKEW_S = 60
NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
NO_KEY = ("Couldn't retrieve verification key from your identity provider,  please reference "
          "AssumeRoleWithWebIdentity documentation for requirements")


@dataclass(frozen=True)
class UnverifiedToken:
    """What a token claims before anything is checked: only for finding the provider and key to check it with."""

    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def issuer(self) -> str:
        iss = self.claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise InvalidIdentityToken("The web identity token does not name its issuer (iss).")
        return iss


@dataclass(frozen=True)
class VerifiedToken:
    issuer: str
    subject: str
    audience: str  # the client id the token was issued for (one of the provider's)
    claims: dict[str, Any]


def read_unverified(token: str) -> UnverifiedToken:
    try:
        compact = jws.extract_compact(token.encode())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, TypeError, RecursionError):  # RecursionError: JSON nested past the stack
        raise InvalidIdentityToken(NOT_A_JWT) from None
    header = dict(compact.headers())
    if not isinstance(claims, dict):
        raise InvalidIdentityToken(NOT_A_JWT)
    return UnverifiedToken(header, claims)


def issuer_url_key(issuer: str) -> str:
    """The provider URL (ARN form: host[:port]/path) an `iss` claim names: the URL without its `https://`, and
    nothing else changed. AWS compares the claim with the provider's URL as registered, so a trailing `/`, a host in
    another case or an explicit `:443` names another provider (a token from `https://host/` needs a provider
    registered as `https://host/`)."""
    return issuer[len("https://"):] if issuer.startswith("https://") else issuer


def verify(token: str, unverified: UnverifiedToken, provider: OidcProvider, keys: IssuerKeys, now: int
           ) -> VerifiedToken:
    alg = unverified.header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidIdentityToken(f"The web identity token is signed with an unsupported algorithm: {alg!r}.")
    kid = unverified.header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidIdentityToken(NOT_A_JWT)
    try:
        candidates = keys.keys_for(provider.issuer, kid)
    except FetchError:
        raise IDPCommunicationError(NO_KEY) from None
    if not candidates:
        raise InvalidIdentityToken(NO_KEY)
    claims = _verified_claims(token, candidates, alg)
    if claims is None:
        raise InvalidIdentityToken("The web identity token's signature could not be verified.")
    return _checked(claims, provider, now)


def _verified_claims(token: str, candidates: Sequence[Any], alg: str) -> dict[str, Any] | None:
    for key in candidates:
        try:
            return dict(jwt.decode(token, key, algorithms=[alg]).claims)
        except (JoseError, ValueError, TypeError, RecursionError):
            continue
    return None


def _checked(claims: dict[str, Any], provider: OidcProvider, now: int) -> VerifiedToken:
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss != "https://" + provider.url:
        raise InvalidIdentityToken("The web identity token's issuer does not match the provider.")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    matched = next((a for a in audiences if isinstance(a, str) and a in provider.client_ids), None)
    if matched is None:
        raise InvalidIdentityToken("Incorrect token audience")
    exp = _number(claims, "exp", required=True)
    assert exp is not None
    if now >= exp + SKEW_S:
        raise ExpiredTokenException(f"Token expired: current date/time {now} must be before the expiration "
                                    f"date/time {int(exp)}")
    nbf = _number(claims, "nbf")
    if nbf is not None and now + SKEW_S < nbf:
        raise InvalidIdentityToken("The web identity token is not valid yet (nbf).")
    iat = _number(claims, "iat")
    if iat is not None and now + SKEW_S < iat:
        raise InvalidIdentityToken("The web identity token was issued in the future (iat).")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidIdentityToken("The web identity token has no subject (sub).")
    return VerifiedToken(issuer=iss, subject=sub, audience=matched, claims=claims)


def _number(claims: dict[str, Any], name: str, *, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidIdentityToken(f"The web identity token's {name} claim is missing or not a number.")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float: no time anyone means
        raise InvalidIdentityToken(f"The web identity token's {name} claim is out of range.") from None
