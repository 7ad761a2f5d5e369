"""A test SAML identity provider: a self-signed signing certificate, its metadata, and responses signed with signxml
(and, for the attacks, unsigned, forged, altered and wrapped ones)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureConstructionMethod, SignatureMethod

from tests.support.pki import certificate, new_key, pem

AWS_SAML = "https://signin.aws.amazon.com/saml"
ENTITY_ID = "https://idp.tests.invalid/metadata"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
_PLACEHOLDER = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"/>'


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SamlIdp:
    def __init__(self, entity_id: str = ENTITY_ID) -> None:
        self.entity_id = entity_id
        self.key = new_key()
        self.cert = certificate("test saml idp", self.key, days=30)
        self.forger_key = new_key()
        self.forger_cert = certificate("test saml idp", self.forger_key, days=30)  # same name, another key
        self.signer = XMLSigner(method=SignatureConstructionMethod.enveloped,
                                signature_algorithm=SignatureMethod.RSA_SHA256,
                                digest_algorithm=DigestAlgorithm.SHA256,
                                c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)

    def metadata(self, *certs: bytes, valid_until: str | None = None) -> str:
        ders = certs or (self.cert.public_bytes(serialization.Encoding.DER),)
        keys = "".join(
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
            f"<ds:X509Data><ds:X509Certificate>{base64.b64encode(der).decode()}</ds:X509Certificate>"
            f"</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" for der in ders)
        until = f' validUntil="{valid_until}"' if valid_until else ""
        return (f'<?xml version="1.0"?>\n<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                f'entityID="{self.entity_id}"{until}>\n  <md:IDPSSODescriptor '
                f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}\n'
                f"    <md:NameIDFormat>{PERSISTENT}</md:NameIDFormat>\n"
                f'    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                f'Location="https://idp.tests.invalid/sso"/>\n  </md:IDPSSODescriptor>\n</md:EntityDescriptor>')

    def assertion(self, role_arn: str, provider_arn: str, session: str, *, audience: str = AWS_SAML,
                  recipient: str | None = None, lifetime: int = 300, placeholder: bool = True,
                  issuer: str | None = None, attributes: dict[str, list[str]] | None = None,
                  name_format: str = PERSISTENT, subject: str | None = None) -> etree._Element:
        now = dt.datetime.now(dt.UTC)
        until = now + dt.timedelta(seconds=lifetime)
        before = min(now, until) - dt.timedelta(minutes=5)
        aid = "_" + uuid.uuid4().hex
        attrs = {f"{ATTR}Role": [f"{role_arn},{provider_arn}"], f"{ATTR}RoleSessionName": [session],
                 **(attributes or {})}
        statement = "".join(
            f'<saml:Attribute Name="{escape(name)}">'
            + "".join(f'<saml:AttributeValue xsi:type="xs:string">{escape(v)}</saml:AttributeValue>' for v in values)
            + "</saml:Attribute>" for name, values in attrs.items())
        xml = (f'<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
               f'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               f'ID="{aid}" Version="2.0" IssueInstant="{_fmt(min(now, until))}">'
               f"<saml:Issuer>{escape(issuer or self.entity_id)}</saml:Issuer>{_PLACEHOLDER if placeholder else ''}"
               f'<saml:Subject><saml:NameID Format="{name_format}">{escape(subject or session)}</saml:NameID>'
               f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
               f'<saml:SubjectConfirmationData NotOnOrAfter="{_fmt(until)}" Recipient="{recipient or audience}"/>'
               f"</saml:SubjectConfirmation></saml:Subject>"
               f'<saml:Conditions NotBefore="{_fmt(before)}" NotOnOrAfter="{_fmt(until)}"><saml:AudienceRestriction>'
               f"<saml:Audience>{escape(audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
               f'<saml:AuthnStatement AuthnInstant="{_fmt(min(now, until))}" SessionIndex="{aid}"><saml:AuthnContext>'
               f"<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
               f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
               f"<saml:AttributeStatement>{statement}</saml:AttributeStatement></saml:Assertion>")
        return etree.fromstring(xml)

    def sign(self, element: etree._Element, *, forged: bool = False) -> etree._Element:
        key, cert = (self.forger_key, self.forger_cert) if forged else (self.key, self.cert)
        return self.signer.sign(element, key=pem(key), cert=pem(cert).decode())

    def response(self, *assertions: etree._Element, sign: bool = True, forged: bool = False,
                 extensions: etree._Element | None = None) -> str:
        xml = (f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_{uuid.uuid4().hex}" Version="2.0" '
               f'IssueInstant="{_fmt(dt.datetime.now(dt.UTC))}" Destination="{AWS_SAML}">'
               f"<saml:Issuer>{self.entity_id}</saml:Issuer>{_PLACEHOLDER if sign else ''}<samlp:Status>"
               f'<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
               f"</samlp:Response>")
        root = etree.fromstring(xml)
        if extensions is not None:
            holder = etree.Element("{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
            holder.append(extensions)
            root.insert(1, holder)
        for a in assertions:
            root.append(a)
        if sign:
            root = self.sign(root, forged=forged)
        return base64.b64encode(etree.tostring(root)).decode()

    def good(self, role_arn: str, provider_arn: str, session: str, **kw: object) -> str:
        """Response and assertion both signed."""
        return self.response(self.sign(self.assertion(role_arn, provider_arn, session, **kw)))  # type: ignore[arg-type]

    def assertion_only(self, role_arn: str, provider_arn: str, session: str, **kw: object) -> str:
        """Only the assertion signed (the response around it is not)."""
        return self.response(self.sign(self.assertion(role_arn, provider_arn, session, **kw)),  # type: ignore[arg-type]
                             sign=False)

    def response_only(self, role_arn: str, provider_arn: str, session: str, **kw: object) -> str:
        """Only the response signed (its assertion is not)."""
        return self.response(self.assertion(role_arn, provider_arn, session, placeholder=False, **kw))  # type: ignore[arg-type]
