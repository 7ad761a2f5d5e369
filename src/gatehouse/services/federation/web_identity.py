"""STS AssumeRoleWithWebIdentity: an OIDC ID token from a provider registered in the role's account is the
credential (the call is unsigned).

The token is verified (`web_token`), then the role's trust policy decides with the provider's keys: `<url>:aud`
(the client id the token was issued for), `<url>:sub`, `<url>:amr` when the token has one ("Available keys for
AWS OIDC federation"). Session tags and a source identity may come from the token, in the claims AWS documents:
`https://aws.amazon.com/tags` (`principal_tags`, `transitive_tag_keys`) and `https://aws.amazon.com/source_identity`.
"""

from __future__ import annotations

from typing import Any

from gatehouse.errors import InvalidIdentityToken, InvalidParameterValue
from gatehouse.model import Caller
from gatehouse.policy import Principal
from gatehouse.services.clock import Clock
from gatehouse.services.federation.issuer_keys import IssuerKeys
from gatehouse.services.federation.sessions import FederatedRoles, FederatedSession, checked_source_identity
from gatehouse.services.federation.web_token import issuer_url_key, read_unverified, verify
from gatehouse.services.operation import operation
from gatehouse.services.sts import parse_role_arn
from gatehouse.storage.repository import Store

ACTION = "sts:AssumeRoleWithWebIdentity"
TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"


class WebIdentityFederation:
    def __init__(self, roles: FederatedRoles, store: Store, keys: IssuerKeys, clock: Clock) -> None:
        self.roles = roles
        self.store = store
        self.keys = keys
        self.clock = clock

    @operation
    def assume_role_with_web_identity(self, caller: Caller, role_arn: str, role_session_name: str,
                                      web_identity_token: str, provider_id: str | None = None,
                                      policy_arns: list[dict[str, str]] | None = None, policy: str | None = None,
                                      duration_seconds: int | None = None, **_: Any) -> dict[str, Any]:
        if provider_id:
            raise InvalidParameterValue("ProviderId is for OAuth 2.0 access tokens, which this service does not "
                                        "accept; pass an OpenID Connect ID token.")
        partition, account, _path, _name = parse_role_arn(role_arn)
        unverified = read_unverified(web_identity_token)
        issuer = unverified.issuer
        provider = None
        if issuer.startswith("https://") and "\x00" not in issuer:  # HTTPS issuers only; no NUL for the database
            with self.store.read(account) as tx:
                provider = tx.oidc.get(issuer_url_key(issuer))
        if provider is None:
            raise InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {issuer}")
        token = verify(web_identity_token, unverified, provider, self.keys, int(self.clock().timestamp()))
        role = self.roles.role(role_arn, ACTION)
        provider_arn = provider.arn(partition)
        keys: dict[str, Any] = {f"{provider.url}:aud": token.audience, f"{provider.url}:sub": token.subject}
        amr = token.claims.get("amr")
        if isinstance(amr, str) or (isinstance(amr, list) and all(isinstance(v, str) for v in amr)):
            keys[f"{provider.url}:amr"] = amr
        tags, transitive = token_tags(token.claims)
        source = token.claims.get(SOURCE_IDENTITY_CLAIM)
        session = FederatedSession(
            provider_arn=provider_arn, principal=Principal.from_arn(provider_arn), session_name=role_session_name,
            keys=keys, tags=tags, transitive_tag_keys=transitive,
            source_identity=checked_source_identity(source if isinstance(source, str) else None))
        out = self.roles.assume(caller, role, ACTION, session, duration_seconds=duration_seconds, policy=policy,
                                policy_arns=policy_arns)
        out.update({"SubjectFromWebIdentityToken": token.subject, "Provider": provider_arn,
                    "Audience": token.audience})
        return out


def token_tags(claims: dict[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """Session tags from the token's `https://aws.amazon.com/tags` claim; each tag has exactly one value."""
    raw = claims.get(TAGS_CLAIM)
    if raw is None:
        return [], []
    if not isinstance(raw, dict):
        raise InvalidIdentityToken(f"The {TAGS_CLAIM} claim must be a JSON object.")
    tags: list[tuple[str, str]] = []
    for key, value in (raw.get("principal_tags") or {}).items():
        values = value if isinstance(value, list) else [value]
        if len(values) != 1 or not isinstance(values[0], str):
            raise InvalidIdentityToken(f"Session tag {key} must have exactly one string value.")
        tags.append((str(key), values[0]))
    transitive = raw.get("transitive_tag_keys") or []
    if not isinstance(transitive, list) or not all(isinstance(k, str) for k in transitive):
        raise InvalidIdentityToken("transitive_tag_keys must be a list of tag keys.")
    return tags, list(transitive)
