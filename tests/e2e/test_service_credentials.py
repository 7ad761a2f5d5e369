"""Service-specific credentials end to end: a password (or API key secret) shown once, list without it, reset
to a new one, activate/deactivate, delete; unsupported services, limits, expiry, and the DeleteUser conflict."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.iam_support import expect, rejected
from tests.support import ACCOUNT

pytestmark = pytest.mark.e2e

CODECOMMIT = "codecommit.amazonaws.com"


def recorder(client: Any) -> list[bytes]:
    seen: list[bytes] = []
    client.meta.events.register("after-call", lambda http_response, **_: seen.append(http_response.content))
    return seen


def test_password_shown_once_then_reset(iam: Any) -> None:
    iam.create_user(UserName="ivy")
    seen = recorder(iam)
    cred = iam.create_service_specific_credential(UserName="ivy", ServiceName=CODECOMMIT)["ServiceSpecificCredential"]
    password, cid = cred["ServicePassword"], cred["ServiceSpecificCredentialId"]
    assert cred["ServiceUserName"] == f"ivy-at-{ACCOUNT}" and cred["Status"] == "Active" and len(password) >= 40
    assert cid.startswith("ACCA")
    listed = iam.list_service_specific_credentials(UserName="ivy")["ServiceSpecificCredentials"]
    assert [(c["ServiceSpecificCredentialId"], c["ServiceName"]) for c in listed] == [(cid, CODECOMMIT)]
    assert "ServicePassword" not in listed[0]
    new = iam.reset_service_specific_credential(UserName="ivy", ServiceSpecificCredentialId=cid)[
        "ServiceSpecificCredential"]["ServicePassword"]
    assert new != password
    assert password.encode() not in b"".join(seen[1:]) and new.encode() not in b"".join(seen[:2] + seen[3:])
    iam.update_service_specific_credential(UserName="ivy", ServiceSpecificCredentialId=cid, Status="Inactive")
    listed = iam.list_service_specific_credentials(UserName="ivy", ServiceName=CODECOMMIT)
    assert listed["ServiceSpecificCredentials"][0]["Status"] == "Inactive"
    response = expect("DeleteConflict", iam.delete_user, UserName="ivy")
    assert response["Error"]["Message"] == "Cannot delete entity, must delete service specific credentials first."
    iam.delete_service_specific_credential(UserName="ivy", ServiceSpecificCredentialId=cid)
    expect("NoSuchEntity", iam.delete_service_specific_credential, UserName="ivy", ServiceSpecificCredentialId=cid)
    iam.delete_user(UserName="ivy")


def test_unsupported_services_and_limits(iam: Any) -> None:
    iam.create_user(UserName="kim")
    response = rejected(iam, "NotSupportedService", iam.create_service_specific_credential, UserName="kim",
                        ServiceName="nosuch.amazonaws.com")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    expect("NotSupportedService", iam.list_service_specific_credentials, UserName="kim",
           ServiceName="nosuch.amazonaws.com")
    for _ in range(2):
        iam.create_service_specific_credential(UserName="kim", ServiceName="cassandra.amazonaws.com")
    rejected(iam, "LimitExceeded", iam.create_service_specific_credential, UserName="kim",
             ServiceName="cassandra.amazonaws.com")
    iam.create_service_specific_credential(UserName="kim", ServiceName=CODECOMMIT)  # the limit is per service
    expect("NoSuchEntity", iam.create_service_specific_credential, UserName="ghost", ServiceName=CODECOMMIT)
    assert len(iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]) == 3


def test_api_keys_expire_when_asked(iam: Any) -> None:
    iam.create_user(UserName="lee")
    cred = iam.create_service_specific_credential(UserName="lee", ServiceName="bedrock.amazonaws.com",
                                                  CredentialAgeDays=30)["ServiceSpecificCredential"]
    assert cred["ServiceCredentialSecret"] and cred["ServiceCredentialAlias"].startswith("lee")
    assert (cred["ExpirationDate"] - cred["CreateDate"]).days == 30
    listed = iam.list_service_specific_credentials(UserName="lee")["ServiceSpecificCredentials"][0]
    assert "ServiceCredentialSecret" not in listed and listed["ExpirationDate"] == cred["ExpirationDate"]
    rejected(iam, "InvalidInput", iam.create_service_specific_credential, UserName="lee", ServiceName=CODECOMMIT,
             CredentialAgeDays=30)
