"""Reading a SAML IdP's metadata document (SAML 2.0 Metadata, section 2.3-2.4): its entity id, the certificates it
signs with, and how long it is valid.

Only what verification needs is extracted; the document itself is kept as uploaded (GetSAMLProvider returns it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from lxml import etree

from gatehouse.services.federation.safe_xml import UnsafeXml, parse

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"md": MD, "ds": DS}
DEFAULT_VALIDITY = 100  # years: AWS's ValidUntil when the metadata names none


class MetadataError(ValueError):
    """The document is not usable IdP metadata."""


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    certificates: tuple[str, ...]  # base64 DER, in document order
    valid_until: dt.datetime | None


def read_metadata(document: str) -> IdpMetadata:
    try:
        root = parse(document.encode())
    except UnsafeXml as e:
        raise MetadataError(str(e)) from None
    entity = _entity_descriptor(root)
    entity_id = entity.get("entityID")
    if not entity_id:
        raise MetadataError("the EntityDescriptor has no entityID")
    idp = entity.find("md:IDPSSODescriptor", NS)
    if idp is None:
        raise MetadataError("the metadata describes no identity provider (IDPSSODescriptor)")
    certificates: list[str] = []
    for descriptor in idp.findall("md:KeyDescriptor", NS):
        if descriptor.get("use") not in (None, "signing"):
            continue
        for element in descriptor.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
            der = _certificate(element.text or "")
            if der not in certificates:
                certificates.append(der)
    if not certificates:
        raise MetadataError("the identity provider names no signing certificate")
    return IdpMetadata(entity_id, tuple(certificates), _valid_until(entity.get("validUntil")))


def default_valid_until(created: dt.datetime) -> dt.datetime:
    try:
        return created.replace(year=created.year + DEFAULT_VALIDITY)
    except ValueError:  # 29 February
        return created.replace(year=created.year + DEFAULT_VALIDITY, day=28)


def certificate_pem(der_b64: str) -> str:
    body = "\n".join(der_b64[i:i + 64] for i in range(0, len(der_b64), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _entity_descriptor(root: etree._Element) -> etree._Element:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        found = [e for e in root.findall("md:EntityDescriptor", NS) if e.find("md:IDPSSODescriptor", NS) is not None]
        if len(found) == 1:
            return found[0]
        raise MetadataError("the metadata must describe exactly one identity provider")
    raise MetadataError("the document is not SAML metadata (no EntityDescriptor)")


def _certificate(text: str) -> str:
    compact = "".join(text.split())
    try:
        der = base64.b64decode(compact, validate=True)
        x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise MetadataError("a signing certificate cannot be read") from None
    return base64.b64encode(der).decode()


def _valid_until(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise MetadataError("validUntil is not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0)
