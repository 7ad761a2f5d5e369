"""IAM SAML providers: an identity provider's metadata (entity id and signing certificates), whose signed responses
AssumeRoleWithSAML accepts.

The metadata is parsed once, safely (no DTDs or entities), when it is uploaded; verification then uses the
certificates extracted here. Encrypted assertions (AddPrivateKey, AssertionEncryptionMode) are not offered.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
from typing import Any

from gatehouse.errors import EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from gatehouse.model import Caller, OwnerKind, SamlProvider
from gatehouse.services.clock import whole_seconds
from gatehouse.services.federation.saml_metadata import IdpMetadata, MetadataError, default_valid_until, read_metadata
from gatehouse.services.iam.common import Finder, checked_tags
from gatehouse.services.iam.provider_refs import ProviderLookup
from gatehouse.services.iam.views import tags_view
from gatehouse.services.operation import operation
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import Duplicate, UnitOfWork

MAX_PROVIDERS = 100
_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):saml-provider/([\w.-]{1,128})\Z")
_UUID_ALPHABET = string.ascii_uppercase + string.digits


def new_provider_uuid() -> str:
    return "SAML" + "".join(secrets.choice(_UUID_ALPHABET) for _ in range(18))


def _unsupported(options: dict[str, Any]) -> None:
    if options.get("add_private_key") or options.get("assertion_encryption_mode") == "Required":
        raise InvalidInput("Encrypted SAML assertions are not supported by this service.")


class SamlProviders(ProviderLookup):
    def provider_for(self, tx: UnitOfWork, caller: Caller, action: str, arn: str,
                     facts: RequestFacts | None = None) -> SamlProvider:
        """The provider `arn` names (the name compares without case, as stored), authorized by its own ARN."""
        return self.provider_named(tx, caller, action, arn, _ARN, OwnerKind.SAML_PROVIDER, tx.saml.get,
                                   NoSuchEntity(f"Manifest not found for arn {arn}"), facts)

    @operation
    def create_saml_provider(self, caller: Caller, saml_metadata_document: str, name: str,
                             tags: list[dict[str, str]] | None = None, **options: Any) -> dict[str, Any]:
        new_tags = checked_tags(tags, OwnerKind.SAML_PROVIDER)
        arn = self.arn(caller, f"saml-provider/{name}")
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:CreateSAMLProvider", arn, RequestFacts(tags=new_tags))
            if tx.saml.get(name) is not None:
                raise EntityAlreadyExists(f"SAMLProvider {name} already exists.")
            _unsupported(options)
            metadata = _metadata(saml_metadata_document)
            if tx.saml.count() >= MAX_PROVIDERS:
                raise LimitExceeded(f"Cannot exceed quota for SAMLProvidersPerAccount: {MAX_PROVIDERS}")
            created = whole_seconds(self.deps.clock)
            provider = SamlProvider(
                account_id=caller.account_id, provider_id=new_provider_uuid(), name=name,
                metadata=saml_metadata_document, entity_id=metadata.entity_id, certificates=metadata.certificates,
                created=created, valid_until=metadata.valid_until or default_valid_until(created))
            try:
                tx.saml.insert(provider)
            except Duplicate:
                raise EntityAlreadyExists(f"SAMLProvider {name} already exists.") from None
            tx.tags.replace(OwnerKind.SAML_PROVIDER, provider.provider_id, new_tags)
        out: dict[str, Any] = {"SAMLProviderArn": arn}
        if new_tags:
            out["Tags"] = tags_view(new_tags)
        return out

    @operation
    def get_saml_provider(self, caller: Caller, saml_provider_arn: str) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:GetSAMLProvider", saml_provider_arn)
            tags = tx.tags.get(OwnerKind.SAML_PROVIDER, p.provider_id)
        return {"SAMLProviderUUID": p.provider_id, "SAMLMetadataDocument": p.metadata, "CreateDate": p.created,
                "ValidUntil": p.valid_until, "Tags": tags_view(tags)}  # [] when untagged, as AWS answers

    @operation
    def list_saml_providers(self, caller: Caller, **_: Any) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:ListSAMLProviders", "*")
            providers = tx.saml.all()
        return {"SAMLProviderList": [{"Arn": p.arn(caller.partition), "ValidUntil": p.valid_until,
                                      "CreateDate": p.created} for p in providers]}

    @operation
    def update_saml_provider(self, caller: Caller, saml_provider_arn: str,
                             saml_metadata_document: str | None = None, **options: Any) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:UpdateSAMLProvider", saml_provider_arn)
            _unsupported(options)
            if saml_metadata_document is None:
                raise InvalidInput("Unable to update identity provider. No updates are defined for metadata or "
                                   "encryption assertion.")
            metadata = _metadata(saml_metadata_document)
            tx.saml.update(dataclasses.replace(
                p, metadata=saml_metadata_document, entity_id=metadata.entity_id, certificates=metadata.certificates,
                valid_until=metadata.valid_until or default_valid_until(p.created)))
        return {"SAMLProviderArn": p.arn(caller.partition)}

    @operation
    def delete_saml_provider(self, caller: Caller, saml_provider_arn: str) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            p = self.provider_for(tx, caller, "iam:DeleteSAMLProvider", saml_provider_arn)
            tx.tags.replace(OwnerKind.SAML_PROVIDER, p.provider_id, [])
            tx.saml.delete(p.provider_id)
        return {}

    # --- tags ------------------------------------------------------------------------------------------------

    def _tagged_provider(self, caller: Caller, name: str) -> Finder:
        return lambda tx, action, facts: self.provider_for(tx, caller, action, name, facts).provider_id

    @operation
    def tag_saml_provider(self, caller: Caller, saml_provider_arn: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        return self.tag_entity(caller, OwnerKind.SAML_PROVIDER, "iam:TagSAMLProvider",
                               self._tagged_provider(caller, saml_provider_arn), tags)

    @operation
    def untag_saml_provider(self, caller: Caller, saml_provider_arn: str, tag_keys: list[str]) -> dict[str, Any]:
        return self.untag_entity(caller, OwnerKind.SAML_PROVIDER, "iam:UntagSAMLProvider",
                                 self._tagged_provider(caller, saml_provider_arn), tag_keys)

    @operation
    def list_saml_provider_tags(self, caller: Caller, saml_provider_arn: str, marker: str | None = None,
                                max_items: int | None = None) -> dict[str, Any]:
        return self.list_entity_tags(caller, OwnerKind.SAML_PROVIDER, "iam:ListSAMLProviderTags",
                                     self._tagged_provider(caller, saml_provider_arn),
                                     marker, max_items)

def _metadata(document: str) -> IdpMetadata:
    try:
        return read_metadata(document)
    except MetadataError:
        raise InvalidInput("Could not parse metadata.") from None
