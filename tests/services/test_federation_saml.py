"""SAML metadata reading and response verification (`federation.saml_metadata`, `federation.saml_response`):
every accepted shape, and every refused one (unsigned, forged, altered, expired, misaddressed, wrapped, unsafe)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from gatehouse.errors import AwsError
from gatehouse.services.federation import saml_response as sr
from gatehouse.services.federation.saml_federation import assertion_tags, name_qualifier, role_pairs, saml_keys
from gatehouse.services.federation.saml_metadata import MetadataError, default_valid_until, read_metadata
from tests.support.saml_idp import ATTR, SamlIdp

ROLE = "arn:aws:iam::123456789012:role/r"
PROVIDER = "arn:aws:iam::123456789012:saml-provider/P"


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


@pytest.fixture(scope="module")
def certs(idp: SamlIdp) -> tuple[str, ...]:
    return read_metadata(idp.metadata()).certificates


def verify(response: str, certs: tuple[str, ...], idp: SamlIdp) -> sr.VerifiedAssertion:
    assertion = sr.signed_assertion(sr.decode(response), certs)
    return sr.read_assertion(assertion, idp.entity_id, dt.datetime.now(dt.UTC))


def refused(response: str, certs: tuple[str, ...], idp: SamlIdp) -> AwsError:
    with pytest.raises(AwsError) as info:
        verify(response, certs, idp)
    return info.value


# --- metadata ------------------------------------------------------------------------------------------------


def test_metadata_gives_entity_id_and_signing_certificates(idp: SamlIdp) -> None:
    other = idp.forger_cert.public_bytes(serialization.Encoding.DER)
    own = idp.cert.public_bytes(serialization.Encoding.DER)
    md = read_metadata(idp.metadata(own, other, valid_until="2031-01-02T03:04:05Z"))
    assert md.entity_id == idp.entity_id
    assert md.certificates == (base64.b64encode(own).decode(), base64.b64encode(other).decode())
    assert md.valid_until == dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert read_metadata(idp.metadata()).valid_until is None


def test_default_validity_is_a_hundred_years() -> None:
    assert default_valid_until(dt.datetime(2000, 2, 29, tzinfo=dt.UTC)) == dt.datetime(2100, 2, 28, tzinfo=dt.UTC)
    assert default_valid_until(dt.datetime(2025, 5, 6, tzinfo=dt.UTC)).year == 2125


@pytest.mark.parametrize("document", [
    "<a>" + "x" * 1000 + "</a>",
    "not xml at all",
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"/>',
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"><md:IDPSSODescriptor '
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    '<!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>',
])
def test_unusable_metadata_is_refused(document: str) -> None:
    with pytest.raises(MetadataError):
        read_metadata(document)


def test_a_certificate_that_is_not_one_is_refused(idp: SamlIdp) -> None:
    with pytest.raises(MetadataError):
        read_metadata(idp.metadata(b"not a certificate"))


# --- accepted responses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["good", "assertion_only", "response_only"])
def test_a_signed_response_or_assertion_is_accepted(idp: SamlIdp, certs: tuple[str, ...], how: str) -> None:
    verified = verify(getattr(idp, how)(ROLE, PROVIDER, "alice@example.com"), certs, idp)
    assert (verified.subject, verified.subject_type, verified.issuer) == ("alice@example.com", "persistent",
                                                                          idp.entity_id)
    assert verified.recipient == "https://signin.aws.amazon.com/saml"
    assert role_pairs(verified) == {(ROLE, PROVIDER)}


def test_key_rollover_any_metadata_certificate_verifies(idp: SamlIdp) -> None:
    both = read_metadata(idp.metadata(idp.forger_cert.public_bytes(serialization.Encoding.DER),
                                      idp.cert.public_bytes(serialization.Encoding.DER))).certificates
    assert verify(idp.good(ROLE, PROVIDER, "bob"), both, idp).subject == "bob"


@pytest.mark.parametrize("endpoint", ["https://us-west-2.signin.aws.amazon.com/saml",
                                      "https://signin.amazonaws.cn/saml"])
def test_regional_and_partition_endpoints_are_aws(idp: SamlIdp, certs: tuple[str, ...], endpoint: str) -> None:
    assert verify(idp.good(ROLE, PROVIDER, "r", audience=endpoint), certs, idp).recipient == endpoint


def test_attributes_become_keys_tags_and_pairs_in_either_order(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    attributes = {f"{ATTR}PrincipalTag:team": ["blue"], f"{ATTR}TransitiveTagKeys": ["team"],
                  "urn:oid:1.3.6.1.4.1.5923.1.1.1.1": ["staff", "member"],
                  f"{ATTR}Role": [f"{PROVIDER},{ROLE}", f"{ROLE}2,{PROVIDER}"]}
    verified = verify(idp.good(ROLE, PROVIDER, "t", attributes=attributes,
                               name_format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"), certs, idp)
    assert role_pairs(verified) == {(ROLE, PROVIDER), (ROLE + "2", PROVIDER)}
    assert assertion_tags(verified) == ([("team", "blue")], ["team"])
    keys = saml_keys(verified, "qualifier", "123456789012/P")
    assert keys["SAML:sub_type"] == "transient" and keys["SAML:edupersonaffiliation"] == ["staff", "member"]
    assert (keys["SAML:iss"], keys["SAML:aud"], keys["SAML:doc"], keys["SAML:sub"]) == (
        idp.entity_id, "https://signin.aws.amazon.com/saml", "123456789012/P", "t")


def test_name_qualifier_is_awss_formula() -> None:
    expected = base64.b64encode(hashlib.sha1(b"https://example.com/saml123456789012/MySAMLIdP").digest()).decode()
    assert name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP") == expected


def test_other_name_formats_are_reported_unchanged(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    fmt = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    assert verify(idp.good(ROLE, PROVIDER, "e", name_format=fmt), certs, idp).subject_type == fmt


# --- refused responses -----------------------------------------------------------------------------------------


def _wrapped_after(idp: SamlIdp) -> str:
    legit = idp.sign(idp.assertion(ROLE, PROVIDER, "legit"))
    return idp.response(idp.assertion(ROLE, PROVIDER, "evil", placeholder=False), legit, sign=False)


def _wrapped_in_extensions(idp: SamlIdp) -> str:
    signed = etree.fromstring(base64.b64decode(idp.good(ROLE, PROVIDER, "legit")))
    return idp.response(idp.assertion(ROLE, PROVIDER, "evil", placeholder=False), sign=False, extensions=signed)


def _evil_inside_signed_assertion(idp: SamlIdp) -> str:
    """A signed assertion moved into the evil one's Advice-like position; the evil one carries the signature's id."""
    legit = idp.sign(idp.assertion(ROLE, PROVIDER, "legit"))
    evil = idp.assertion(ROLE, PROVIDER, "evil", placeholder=False)
    evil.set("ID", legit.get("ID") or "")
    evil.append(legit)
    return idp.response(evil, sign=False)


def _altered(idp: SamlIdp) -> str:
    data = base64.b64decode(idp.good(ROLE, PROVIDER, "mallory@example.com")).replace(b"mallory@", b"admin@@")
    return base64.b64encode(data).decode()


def _two_signed_assertions(idp: SamlIdp) -> str:
    return idp.response(idp.sign(idp.assertion(ROLE, PROVIDER, "a")), idp.sign(idp.assertion(ROLE, PROVIDER, "b")))


def _failed_status(idp: SamlIdp) -> str:
    data = base64.b64decode(idp.assertion_only(ROLE, PROVIDER, "s")).replace(b"status:Success", b"status:Requester")
    return base64.b64encode(data).decode()


def _doctype(idp: SamlIdp) -> str:
    data = base64.b64decode(idp.good(ROLE, PROVIDER, "d"))
    return base64.b64encode(b'<!DOCTYPE r [<!ENTITY x "y">]>' + data).decode()


CASES: dict[str, tuple[Any, str]] = {
    "unsigned": (lambda i: i.response(i.assertion(ROLE, PROVIDER, "u", placeholder=False), sign=False),
                 "InvalidIdentityToken"),
    "signed by another key": (lambda i: i.response(i.sign(i.assertion(ROLE, PROVIDER, "f"), forged=True),
                                                   forged=True), "InvalidIdentityToken"),
    "assertion signed by another key": (lambda i: i.response(i.sign(i.assertion(ROLE, PROVIDER, "f"), forged=True),
                                                             sign=False), "InvalidIdentityToken"),
    "altered after signing": (_altered, "InvalidIdentityToken"),
    "expired": (lambda i: i.good(ROLE, PROVIDER, "late", lifetime=-600), "ExpiredTokenException"),
    "wrong audience": (lambda i: i.good(ROLE, PROVIDER, "a", audience="https://elsewhere.invalid/saml",
                                        recipient="https://signin.aws.amazon.com/saml"), "InvalidIdentityToken"),
    "wrong recipient": (lambda i: i.good(ROLE, PROVIDER, "a", recipient="https://elsewhere.invalid/acs"),
                        "InvalidIdentityToken"),
    "another issuer": (lambda i: i.good(ROLE, PROVIDER, "i", issuer="https://other.invalid"), "InvalidIdentityToken"),
    "wrapping: evil assertion before the signed one": (_wrapped_after, "InvalidIdentityToken"),
    "wrapping: signed response hidden in Extensions": (_wrapped_in_extensions, "InvalidIdentityToken"),
    "wrapping: signed assertion inside the evil one": (_evil_inside_signed_assertion, "InvalidIdentityToken"),
    "two assertions": (_two_signed_assertions, "InvalidIdentityToken"),
    "failed status": (_failed_status, "InvalidIdentityToken"),
    "DTD": (_doctype, "InvalidIdentityToken"),
    "not base64": (lambda i: "***", "InvalidIdentityToken"),
    "not a response": (lambda i: base64.b64encode(b"<x/>").decode(), "InvalidIdentityToken"),
}


@pytest.mark.parametrize("what", list(CASES))
def test_bad_responses_are_refused(idp: SamlIdp, certs: tuple[str, ...], what: str) -> None:
    make, code = CASES[what]
    assert refused(make(idp), certs, idp).code == code


def test_refused_messages_use_awss_wording(idp: SamlIdp, certs: tuple[str, ...]) -> None:
    assert refused(CASES["unsigned"][0](idp), certs, idp).message == "Response signature invalid"
    assert refused(CASES["another issuer"][0](idp), certs, idp).message == "Issuer not present in specified provider"
    assert refused(CASES["wrong audience"][0](idp), certs, idp).message == (
        "Response does not contain the required audience.")
