"""Stored policy documents count toward a per-account quota in bytes, white space included: documents come back as
submitted (as AWS returns them), so AWS's size quotas, which ignore white space, do not bound what one account
stores. A write past the quota is refused with LimitExceeded and changes nothing; other accounts are unaffected."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest

from gatehouse.app import Application
from gatehouse.services.iam.documents import DOCUMENT_BYTES_PER_ACCOUNT, PolicyDocuments
from gatehouse.services.iam.users import Users
from tests.security.support import ACCOUNT, call, new_app, ok

QUOTA = 20_000
SMALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*",
                                                            "Resource": "*"}]})
PADDED = SMALL[:-1] + " " * (8_000 - len(SMALL)) + "}"  # 8,000 bytes, ~90 of them not white space
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]})


def _documents(app: Application) -> PolicyDocuments:
    assert app.asgi is not None
    owner = app.asgi.endpoint.router.route("iam", "CreateUser").call.__self__  # type: ignore[attr-defined]
    assert isinstance(owner, Users)
    return owner.deps.documents


@pytest.fixture
def app() -> Iterator[Application]:
    application = new_app()
    _documents(application).account_bytes = QUOTA
    ok(application, "iam", "CreateUser", {"UserName": "filler"})
    yield application
    application.close()


def _refused(answer: object) -> None:
    assert (answer.status, answer.code) == (409, "LimitExceeded"), answer.body[:300]  # type: ignore[attr-defined]
    assert answer.message == f"Cannot exceed quota for PolicyDocumentBytesPerAccount: {QUOTA}"  # type: ignore


def test_the_default_quota_is_documented_and_generous() -> None:
    assert DOCUMENT_BYTES_PER_ACCOUNT == 64 * 1024 * 1024


def test_padded_inline_policies_fill_the_quota_then_are_refused(app: Application) -> None:
    for name in ("a", "b"):
        ok(app, "iam", "PutUserPolicy", {"UserName": "filler", "PolicyName": name, "PolicyDocument": PADDED})
    got = ok(app, "iam", "GetUserPolicy", {"UserName": "filler", "PolicyName": "a"}).text("PolicyDocument")
    assert urllib.parse.unquote(got) == PADDED  # returned as submitted, white space included
    _refused(call(app, "iam", "PutUserPolicy", {"UserName": "filler", "PolicyName": "c", "PolicyDocument": PADDED}))
    assert call(app, "iam", "GetUserPolicy", {"UserName": "filler", "PolicyName": "c"}).code == "NoSuchEntity"
    # Replacing a stored document counts its new size only: the same size again fits.
    ok(app, "iam", "PutUserPolicy", {"UserName": "filler", "PolicyName": "b", "PolicyDocument": PADDED})
    ok(app, "iam", "PutUserPolicy", {"UserName": "filler", "PolicyName": "c", "PolicyDocument": SMALL})


def test_managed_versions_and_trust_policies_count_too(app: Application) -> None:
    made = ok(app, "iam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": PADDED})
    arn = made.text("Arn")
    ok(app, "iam", "CreatePolicyVersion", {"PolicyArn": arn, "PolicyDocument": PADDED})
    _refused(call(app, "iam", "CreatePolicyVersion", {"PolicyArn": arn, "PolicyDocument": PADDED}))
    _refused(call(app, "iam", "CreatePolicy", {"PolicyName": "q", "PolicyDocument": PADDED}))
    assert call(app, "iam", "GetPolicy", {"PolicyArn": arn.replace("/p", "/q")}).code == "NoSuchEntity"
    padded_trust = TRUST[:-1] + " " * 4_000 + "}"
    _refused(call(app, "iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": padded_trust}))
    assert call(app, "iam", "GetRole", {"RoleName": "r"}).code == "NoSuchEntity"
    ok(app, "iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": TRUST})
    _refused(call(app, "iam", "UpdateAssumeRolePolicy", {"RoleName": "r", "PolicyDocument": padded_trust}))
    ok(app, "iam", "DeletePolicyVersion", {"PolicyArn": arn, "VersionId": "v2"})  # deleting frees the bytes
    ok(app, "iam", "UpdateAssumeRolePolicy", {"RoleName": "r", "PolicyDocument": padded_trust})
