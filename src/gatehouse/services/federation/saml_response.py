"""Verifying a SAML 2.0 authentication response for AssumeRoleWithSAML (SAML Core 2.0 sections 2.3-2.7, 3.2;
Web Browser SSO profile, Profiles 4.1.4) and reading the one assertion it carries.

Signature wrapping is defeated by construction: the signature is checked with signxml against the provider's
certificates, and every fact afterwards is read from what signxml returns as signed (`VerifyResult.signed_xml`),
never from the document as received. A signed Response or a signed Assertion is accepted; the signature must be a
direct child of the element it signs and must reference that very element; a response must carry exactly one
assertion. Everything else about the assertion (issuer, audience, recipient, validity window) is checked here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import SignXMLException

from gatehouse.errors import ExpiredTokenException, InvalidIdentityToken
from gatehouse.services.federation.safe_xml import UnsafeXml, parse
from gatehouse.services.federation.saml_metadata import certificate_pem

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}
RESPONSE, ASSERTION = f"{{{SAMLP}}}Response", f"{{{SAML}}}Assertion"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
NAMEID_PREFIX = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
SKEW = dt.timedelta(seconds=60)
MAX_RESPONSE = 100_000

# AWS's sign-in endpoints (the Recipient and Audience a response must be addressed to), in every partition.
_AWS_ENDPOINT = re.compile(r"https://(?:[a-z0-9-]+\.)?signin\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)"
                           r"(?:/static)?/saml/?\Z")
_AWS_AUDIENCES = frozenset({"urn:amazon:webservices", "urn:amazon:webservices:cn", "urn:amazon:webservices:govcloud"})
INVALID_SIGNATURE = "Response signature invalid"


def is_aws_endpoint(url: str) -> bool:
    return bool(_AWS_ENDPOINT.match(url))


@dataclass(frozen=True)
class VerifiedAssertion:
    """The facts of a verified assertion (all read from signed XML)."""

    assertion_id: str
    issuer: str
    subject: str
    subject_format: str | None
    recipient: str
    expires: dt.datetime  # the earliest NotOnOrAfter: until then the assertion could be replayed
    session_not_on_or_after: dt.datetime | None
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def subject_type(self) -> str:
        """AWS's SubjectType: the NameID format without the SAML 2.0 prefix (other formats unchanged)."""
        fmt = self.subject_format or f"{NAMEID_PREFIX}transient"
        return fmt[len(NAMEID_PREFIX):] if fmt.startswith(NAMEID_PREFIX) else fmt

    def values(self, name: str) -> tuple[str, ...]:
        return self.attributes.get(name, ())


def decode(saml_response: str) -> bytes:
    try:
        data = base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidIdentityToken("Invalid base64 SAMLResponse") from None
    if len(data) > MAX_RESPONSE:
        raise InvalidIdentityToken("The SAML response is too large.")
    return data


def signed_assertion(data: bytes, certificates: Sequence[str]) -> etree._Element:
    """The response's one assertion, as signed XML (covered by the response's or its own signature)."""
    try:
        root = parse(data)
    except UnsafeXml:
        raise InvalidIdentityToken("The SAML response is not valid XML.") from None
    if root.tag != RESPONSE:
        raise InvalidIdentityToken("The SAML response is not a samlp:Response.")
    if root.find("saml:EncryptedAssertion", NS) is not None:
        raise InvalidIdentityToken("Encrypted SAML assertions are not supported.")
    if _own_signature(root):
        response = _verified(root, certificates, RESPONSE)
        _check_status(response)
        assertions = response.findall("saml:Assertion", NS)
        if len(assertions) != 1:
            raise InvalidIdentityToken("The SAML response must contain exactly one assertion.")
        return assertions[0]
    _check_status(root)
    assertions = root.findall("saml:Assertion", NS)
    if len(assertions) != 1:
        raise InvalidIdentityToken("The SAML response must contain exactly one assertion.")
    if not _own_signature(assertions[0]):
        raise InvalidIdentityToken(INVALID_SIGNATURE)
    return _verified(assertions[0], certificates, ASSERTION)


def read_assertion(assertion: etree._Element, entity_id: str, now: dt.datetime) -> VerifiedAssertion:
    """Check what makes a (signed) assertion acceptable now, for AWS, from this IdP; return its facts."""
    assertion_id = assertion.get("ID")
    if not assertion_id:
        raise InvalidIdentityToken("The SAML assertion has no ID.")
    issuer = _text(assertion.find("saml:Issuer", NS))
    if issuer != entity_id:
        raise InvalidIdentityToken("Issuer not present in specified provider")
    subject = assertion.find("saml:Subject", NS)
    name_id = subject.find("saml:NameID", NS) if subject is not None else None
    if name_id is None or not _text(name_id):
        raise InvalidIdentityToken("The SAML assertion has no subject (NameID).")
    recipient, confirmed_until = _bearer_confirmation(subject)
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is None:
        raise InvalidIdentityToken("Response does not contain the required audience.")
    not_before = _time(conditions.get("NotBefore"))
    condition_until = _time(conditions.get("NotOnOrAfter"))
    if not_before is not None and now + SKEW < not_before:
        raise InvalidIdentityToken("The SAML assertion is not valid yet (NotBefore).")
    expires = min(t for t in (condition_until, confirmed_until) if t is not None)
    if now >= expires + SKEW:
        raise ExpiredTokenException(f"Token expired: current date/time {int(now.timestamp())} must be before the "
                                    f"expiration date/time {int(expires.timestamp())}")
    _check_audience(conditions)
    statement = assertion.find("saml:AuthnStatement", NS)
    session_until = _time(statement.get("SessionNotOnOrAfter")) if statement is not None else None
    return VerifiedAssertion(assertion_id=assertion_id, issuer=issuer, subject=_text(name_id),
                             subject_format=name_id.get("Format"), recipient=recipient, expires=expires,
                             session_not_on_or_after=session_until, attributes=_attributes(assertion))


# --- signatures ----------------------------------------------------------------------------------------------


def _own_signature(element: etree._Element) -> bool:
    return element.find("ds:Signature", NS) is not None


def _verified(element: etree._Element, certificates: Sequence[str], tag: str) -> etree._Element:
    """`element` as signed by one of `certificates`: the signature must be its direct child and reference it."""
    config = SignatureConfiguration(location="./", expect_references=1)
    for der in certificates:
        try:
            result = XMLVerifier().verify(element, x509_cert=certificate_pem(der), expect_config=config,
                                          id_attribute="ID")
        except (SignXMLException, etree.LxmlError, ValueError):
            continue
        signed = result.signed_xml  # type: ignore[union-attr]
        if signed is not None and signed.tag == tag and signed.get("ID") == element.get("ID"):
            return signed
    raise InvalidIdentityToken(INVALID_SIGNATURE)


# --- the parts of an assertion -------------------------------------------------------------------------------


def _check_status(response: etree._Element) -> None:
    code = response.find("samlp:Status/samlp:StatusCode", NS)
    if code is None or code.get("Value") != SUCCESS:
        raise InvalidIdentityToken("The SAML response does not report success.")


def _bearer_confirmation(subject: etree._Element) -> tuple[str, dt.datetime]:
    """AWS: exactly one SubjectConfirmation, bearer, whose data names AWS as Recipient and has NotOnOrAfter."""
    confirmations = subject.findall("saml:SubjectConfirmation", NS)
    if len(confirmations) != 1 or confirmations[0].get("Method") != BEARER:
        raise InvalidIdentityToken("The SAML assertion must have exactly one bearer SubjectConfirmation.")
    data = confirmations[0].find("saml:SubjectConfirmationData", NS)
    until = _time(data.get("NotOnOrAfter")) if data is not None else None
    recipient = data.get("Recipient") if data is not None else None
    if until is None or not recipient:
        raise InvalidIdentityToken("SubjectConfirmationData must have NotOnOrAfter and Recipient.")
    if not is_aws_endpoint(recipient):
        raise InvalidIdentityToken("The SAML assertion's Recipient is not the AWS sign-in endpoint.")
    return recipient, until


def _check_audience(conditions: etree._Element) -> None:
    restrictions = conditions.findall("saml:AudienceRestriction", NS)
    if not restrictions:
        raise InvalidIdentityToken("Response does not contain the required audience.")
    for restriction in restrictions:  # every restriction must be met (SAML Core 2.5.1.4)
        audiences = [_text(a) for a in restriction.findall("saml:Audience", NS)]
        if not any(a in _AWS_AUDIENCES or is_aws_endpoint(a) for a in audiences):
            raise InvalidIdentityToken("Response does not contain the required audience.")


def _attributes(assertion: etree._Element) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for statement in assertion.findall("saml:AttributeStatement", NS):
        for attribute in statement.findall("saml:Attribute", NS):
            name = attribute.get("Name")
            if name:
                values = out.setdefault(name, [])
                values.extend(_text(v) for v in attribute.findall("saml:AttributeValue", NS))
    return {name: tuple(values) for name, values in out.items()}


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidIdentityToken(f"Invalid SAML time value: {value}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
