"""IAM OpenID Connect providers: the issuers whose ID tokens AssumeRoleWithWebIdentity accepts, with the client ids
(audiences) tokens must be issued for.

A provider is named by its issuer URL without the scheme (`host[:port]/path`), which is also its ARN's resource
and the prefix of its trust-policy keys. Only HTTPS issuers are accepted: their keys are fetched over verified TLS.
Thumbprints are kept as AWS keeps them (up to five), but a certificate is trusted only through the trust store:
a thumbprint never makes an otherwise untrusted certificate acceptable.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urlsplit

from gatehouse.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity, ValidationError
from gatehouse.model import Caller, OidcProvider, OwnerKind
from gatehouse.services import ids
from gatehouse.services.clock import whole_seconds
from gatehouse.services.federation.web_token import issuer_url_key
from gatehouse.services.iam.common import Finder, checked_tags
from gatehouse.services.iam.provider_refs import ProviderLookup
from gatehouse.services.iam.views import tags_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_PROVIDERS = 100
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):oidc-provider/(.+)\Z")
_THUMBPRINT = re.compile(r"[0-9a-fA-F]{40}\Z")


def provider_url(url: str) -> str:
    """The provider name (ARN form) of an issuer URL, which must be HTTPS and carry nothing but host and path."""
    if "://" not in url:
        # AWS's answer to a value that is no URL at all ("example.org"), recorded in LocalStack's AWS-validated
        # test_iam_oidc.snapshot.json.
        raise ValidationError("Invalid Open ID Connect Provider URL")
    parts = urlsplit(url)
    if (parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username
            or "@" in parts.netloc):
        raise InvalidInput(f"Invalid OpenID Connect provider URL: {url}. The URL must begin with https:// and "
                           "name only a host and, optionally, a port and a path.")
    return issuer_url_key(url)


def checked_thumbprints(thumbprints: list[str] | None) -> tuple[str, ...]:
    values = list(thumbprints or ())
    if len(values) > MAX_THUMBPRINTS:
        raise InvalidInput("Thumbprint list must contain fewer than 5 entries.")
    for value in values:
        if not _THUMBPRINT.match(value):
            raise InvalidInput(f"Thumbprint {value} is not a 40-character hexadecimal SHA-1 fingerprint.")
    return tuple(v.lower() for v in values)


def checked_client_ids(client_ids: list[str] | None) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(client_ids or ()))
    if len(unique) > MAX_CLIENT_IDS:
        raise LimitExceeded(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    return unique


class OidcProviders(ProviderLookup):
    def provider_for(self, tx: UnitOfWork, caller: Caller, action: str, arn: str,
                     facts: RequestFacts | None = None) -> OidcProvider:
        """The provider `arn` names (its URL as stored: hosts are kept in lower case), authorized by its own ARN."""
        return self.provider_named(tx, caller, action, arn, _ARN, OwnerKind.OIDC_PROVIDER, tx.oidc.get,
                                   NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}"), facts)

    @operation
    def create_open_id_connect_provider(self, caller: Caller, url: str, client_id_list: list[str] | None = None,
                                        thumbprint_list: list[str] | None = None,
                                        tags: list[dict[str, str]] | None = None, **_: Any) -> dict[str, Any]:
        key = provider_url(url)
        new_tags = checked_tags(tags, OwnerKind.OIDC_PROVIDER)
        arn = self.arn(caller, f"oidc-provider/{key}")
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreateOpenIDConnectProvider", arn, RequestFacts(tags=new_tags))
            if tx.oidc.get(key) is not None:
                raise EntityAlreadyExists(f"Provider with url https://{key} already exists.")
            client_ids, thumbprints = checked_client_ids(client_id_list), checked_thumbprints(thumbprint_list)
            if tx.oidc.count() >= MAX_PROVIDERS:
                raise LimitExceeded(f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}")
            provider = OidcProvider(account_id=caller.account_id, provider_id=ids.unique_id("AOIP"), url=key,
                                    created=whole_seconds(self.deps.clock), client_ids=client_ids,
                                    thumbprints=thumbprints)
            try:
                tx.oidc.insert(provider)
            except Duplicate:
                raise EntityAlreadyExists(f"Provider with url https://{key} already exists.") from None
            tx.tags.replace(OwnerKind.OIDC_PROVIDER, provider.provider_id, new_tags)
        out: dict[str, Any] = {"OpenIDConnectProviderArn": arn}
        if new_tags:
            out["Tags"] = tags_view(new_tags)
        return out

    @operation
    def get_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:GetOpenIDConnectProvider", open_id_connect_provider_arn)
            tags = tx.tags.get(OwnerKind.OIDC_PROVIDER, p.provider_id)
        return {"Url": p.url, "ClientIDList": list(p.client_ids), "ThumbprintList": list(p.thumbprints),
                "CreateDate": p.created, "Tags": tags_view(tags)}  # [] when untagged, as AWS answers

    @operation
    def list_open_id_connect_providers(self, caller: Caller, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListOpenIDConnectProviders", "*")
            providers = tx.oidc.all()
        return {"OpenIDConnectProviderList": [{"Arn": p.arn(caller.partition)} for p in providers]}

    @operation
    def delete_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str) -> dict[str, Any]:
        """Not idempotent, whatever older API references said: AWS answers a second delete with NoSuchEntity in
        this wording (LocalStack's AWS-validated test_iam_oidc.snapshot.json, "deletion-not-found-error")."""
        with self.store.write(caller.account_id) as tx:
            try:
                p = self.provider_for(tx, caller, "iam:DeleteOpenIDConnectProvider", open_id_connect_provider_arn)
            except NoSuchEntity:
                raise NoSuchEntity(f"OpenId connect Provider {open_id_connect_provider_arn} cannot be found."
                                   ) from None
            tx.tags.replace(OwnerKind.OIDC_PROVIDER, p.provider_id, [])
            tx.oidc.delete(p.provider_id)
        return {}

    @operation
    def add_client_id_to_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str,
                                                  client_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:AddClientIDToOpenIDConnectProvider",
                                  open_id_connect_provider_arn)
            if client_id not in p.client_ids:
                tx.oidc.update(dataclasses.replace(p, client_ids=checked_client_ids([*p.client_ids, client_id])))
        return {}

    @operation
    def remove_client_id_from_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str,
                                                       client_id: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:RemoveClientIDFromOpenIDConnectProvider",
                                  open_id_connect_provider_arn)
            if client_id in p.client_ids:
                tx.oidc.update(dataclasses.replace(p, client_ids=tuple(c for c in p.client_ids if c != client_id)))
        return {}

    @operation
    def update_open_id_connect_provider_thumbprint(self, caller: Caller, open_id_connect_provider_arn: str,
                                                   thumbprint_list: list[str]) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:UpdateOpenIDConnectProviderThumbprint",
                                  open_id_connect_provider_arn)
            tx.oidc.update(dataclasses.replace(p, thumbprints=checked_thumbprints(thumbprint_list)))
        return {}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_provider(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self.provider_for(tx, caller, action, name, facts).provider_id

    @operation
    def tag_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str, tags: list[dict[str, str]]
                                     ) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.OIDC_PROVIDER, "iam:TagOpenIDConnectProvider",
                               self._tagged_provider(caller, open_id_connect_provider_arn), tags)

    @operation
    def untag_open_id_connect_provider(self, caller: Caller, open_id_connect_provider_arn: str, tag_keys: list[str]
                                       ) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.OIDC_PROVIDER, "iam:UntagOpenIDConnectProvider",
                                 self._tagged_provider(caller, open_id_connect_provider_arn), tag_keys)

    @operation
    def list_open_id_connect_provider_tags(self, caller: Caller, open_id_connect_provider_arn: str,
                                           marker: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.OIDC_PROVIDER, "iam:ListOpenIDConnectProviderTags",
                                     self._tagged_provider(caller, open_id_connect_provider_arn),
                                     marker, max_items)
