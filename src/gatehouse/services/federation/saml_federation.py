"""STS AssumeRoleWithSAML: a SAML response from an IdP registered as a SAML provider is the credential (the call is
unsigned).

The response is verified (`saml_response`) against the provider's metadata certificates; the assertion must list
the requested (role, provider) pair in its `https://aws.amazon.com/SAML/Attributes/Role` attribute and name the
session (`RoleSessionName`). The trust policy then decides with the SAML keys AWS documents ("Available keys for
SAML-based AWS STS federation"). An assertion is accepted once: its id is remembered in the database until it
expires, so a replay is refused by every replica.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from gatehouse.errors import AccessDenied, InvalidIdentityToken
from gatehouse.errors import ValidationError as AwsValidationError
from gatehouse.model import Caller, SamlProvider, make_arn
from gatehouse.policy import Principal
from gatehouse.services.clock import Clock
from gatehouse.services.federation.saml_response import (
    SKEW,
    VerifiedAssertion,
    decode,
    read_assertion,
    signed_assertion,
)
from gatehouse.services.federation.sessions import (
    FederatedRoles,
    FederatedSession,
    checked_session_name,
    checked_source_identity,
)
from gatehouse.services.operation import operation
from gatehouse.services.sts import parse_role_arn
from gatehouse.storage.repository import Store

ACTION = "sts:AssumeRoleWithSAML"
ATTRIBUTES = "https://aws.amazon.com/SAML/Attributes/"
ROLE, SESSION_NAME, SOURCE_IDENTITY = f"{ATTRIBUTES}Role", f"{ATTRIBUTES}RoleSessionName", f"{ATTRIBUTES}SourceIdentity"
PRINCIPAL_TAG, TRANSITIVE_KEYS = f"{ATTRIBUTES}PrincipalTag:", f"{ATTRIBUTES}TransitiveTagKeys"
_PROVIDER_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):saml-provider/([\w.-]{1,128})\Z")

# SAML attributes AWS exposes as trust-policy keys (eduPerson and eduOrg by OID, and the common name).
_EDU = "urn:oid:1.3.6.1.4.1.5923.1."
ATTRIBUTE_KEYS = {
    f"{_EDU}1.1.1": "SAML:edupersonaffiliation", f"{_EDU}1.1.2": "SAML:edupersonnickname",
    f"{_EDU}1.1.3": "SAML:edupersonorgdn", f"{_EDU}1.1.4": "SAML:edupersonorgunitdn",
    f"{_EDU}1.1.5": "SAML:edupersonprimaryaffiliation", f"{_EDU}1.1.6": "SAML:edupersonprincipalname",
    f"{_EDU}1.1.7": "SAML:edupersonentitlement", f"{_EDU}1.1.8": "SAML:edupersonprimaryorgunitdn",
    f"{_EDU}1.1.9": "SAML:edupersonscopedaffiliation", f"{_EDU}1.1.10": "SAML:edupersontargetedid",
    f"{_EDU}1.1.11": "SAML:edupersonassurance", f"{_EDU}2.1.2": "SAML:eduorghomepageuri",
    f"{_EDU}2.1.3": "SAML:eduorgidentityauthnpolicyuri", f"{_EDU}2.1.4": "SAML:eduorglegalname",
    f"{_EDU}2.1.5": "SAML:eduorgsuperioruri", f"{_EDU}2.1.6": "SAML:eduorgwhitepagesuri",
    "urn:oid:2.5.4.3": "SAML:cn",
}


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """AWS's NameQualifier: BASE64(SHA1(issuer + account id + "/" + provider name))."""
    digest = hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


class SamlFederation:
    def __init__(self, roles: FederatedRoles, store: Store, clock: Clock) -> None:
        self.roles = roles
        self.store = store
        self.clock = clock

    @operation
    def assume_role_with_saml(self, caller: Caller, role_arn: str, principal_arn: str, saml_assertion: str,
                              policy_arns: list[dict[str, str]] | None = None, policy: str | None = None,
                              duration_seconds: int | None = None, **_: Any) -> dict[str, Any]:
        partition, role_account, _path, _name = parse_role_arn(role_arn)
        provider = self._provider(principal_arn)
        now = self.clock()
        assertion = read_assertion(signed_assertion(decode(saml_assertion), provider.certificates),
                                   provider.entity_id, now)
        if provider.account_id != role_account or (role_arn, principal_arn) not in role_pairs(assertion):
            raise AccessDenied(f"Not authorized to perform {ACTION}")
        role = self.roles.role(role_arn, ACTION)
        names = assertion.values(SESSION_NAME)
        if not names:
            raise InvalidIdentityToken("RoleSessionName is required in AuthnResponse")
        session_name = checked_session_name(names[0], "AuthnResponse")
        sources = assertion.values(SOURCE_IDENTITY)
        qualifier = name_qualifier(assertion.issuer, provider.account_id, provider.name)
        provider_arn = make_arn(partition, "iam", provider.account_id, f"saml-provider/{provider.name}")
        tags, transitive = assertion_tags(assertion)
        session = FederatedSession(
            provider_arn=provider_arn, principal=Principal.from_arn(provider_arn), session_name=session_name,
            keys=saml_keys(assertion, qualifier, f"{provider.account_id}/{provider.name}"), tags=tags,
            transitive_tag_keys=transitive, source_identity=checked_source_identity(sources[0] if sources else None))
        cap = None
        if assertion.session_not_on_or_after is not None:
            cap = int((assertion.session_not_on_or_after - now).total_seconds())
            if cap <= 0:
                raise InvalidIdentityToken("The SAML session has ended (SessionNotOnOrAfter).")

        def remember() -> None:
            if not self.store.remember_assertion(provider.account_id, provider.provider_id, assertion.assertion_id,
                                                 assertion.expires + SKEW, now):
                raise InvalidIdentityToken("The SAML assertion has already been used.")

        out = self.roles.assume(caller, role, ACTION, session, duration_seconds=duration_seconds, policy=policy,
                                policy_arns=policy_arns, cap_seconds=cap, before_issue=remember)
        out.update({"Subject": assertion.subject, "SubjectType": assertion.subject_type,
                    "Issuer": assertion.issuer, "Audience": assertion.recipient, "NameQualifier": qualifier})
        return out

    def _provider(self, principal_arn: str) -> SamlProvider:
        m = _PROVIDER_ARN.match(principal_arn)
        if not m:
            raise AwsValidationError(f"{principal_arn} is invalid")
        with self.store.read(m.group(2)) as tx:
            provider = tx.saml.get(m.group(3))
        if provider is None:
            raise InvalidIdentityToken("Specified provider doesn't exist.")
        return provider


def role_pairs(assertion: VerifiedAssertion) -> set[tuple[str, str]]:
    """(role ARN, provider ARN) pairs of the Role attribute; AWS accepts either order within a value."""
    pairs = set()
    for value in assertion.values(ROLE):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            continue
        first, second = parts
        if ":saml-provider/" in first:
            first, second = second, first
        pairs.add((first, second))
    return pairs


def assertion_tags(assertion: VerifiedAssertion) -> tuple[list[tuple[str, str]], list[str]]:
    tags: list[tuple[str, str]] = []
    for name, values in assertion.attributes.items():
        if name.startswith(PRINCIPAL_TAG):
            if len(values) != 1:
                raise InvalidIdentityToken(f"Session tag {name[len(PRINCIPAL_TAG):]} must have exactly one value.")
            tags.append((name[len(PRINCIPAL_TAG):], values[0]))
    return tags, list(assertion.values(TRANSITIVE_KEYS))


def saml_keys(assertion: VerifiedAssertion, qualifier: str, doc: str) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "SAML:aud": assertion.recipient, "SAML:iss": assertion.issuer, "SAML:sub": assertion.subject,
        "SAML:sub_type": assertion.subject_type, "SAML:namequalifier": qualifier, "SAML:doc": doc,
    }
    for name, key in ATTRIBUTE_KEYS.items():
        values = assertion.values(name)
        if values:
            keys[key] = list(values)
    return keys
