"""The request path end to end: SigV4 failures (wrong secret, expired or future date, unknown key, tampered
body, unsigned request), unknown and missing actions, and the AWS error envelope. Each rejected request must
leave the account unchanged."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import urllib.request
from typing import Any

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from tests.e2e.iam_support import error_code, expect, rejected, send, signed, snapshot, status_of
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e

CREATE = "Action=CreateUser&Version=2010-05-08&UserName=mallory"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _assert_no_mallory(iam: Any) -> None:
    expect("NoSuchEntity", iam.get_user, UserName="mallory")


def test_wrong_secret(gh: Endpoint, iam: Any) -> None:
    response = rejected(iam, "SignatureDoesNotMatch", gh.client("iam", secret="wrong").create_user,
                        UserName="mallory")
    assert status_of(response) == 403
    assert response["Error"]["Message"].startswith("The request signature we calculated does not match")


def test_unknown_key(gh: Endpoint, iam: Any) -> None:
    response = rejected(iam, "InvalidClientTokenId", gh.client("iam", key="AKIANOSUCHKEY0000000").create_user,
                        UserName="mallory")
    assert response["Error"]["Message"] == "The security token included in the request is invalid."
    assert status_of(response) == 403


def test_tampered_body(gh: Endpoint, iam: Any) -> None:
    before = snapshot(iam)
    req = signed(gh.url, CREATE)
    status, text = send(req, CREATE.replace("mallory", "mallorz"))
    assert (status, error_code(text)) == (403, "SignatureDoesNotMatch")
    status, text = send(req, CREATE + "&Path=%2Fevil%2F")
    assert (status, error_code(text)) == (403, "SignatureDoesNotMatch")
    assert snapshot(iam) == before
    assert send(req)[0] == 200  # the untouched request is fine
    assert iam.get_user(UserName="mallory")["User"]["Path"] == "/"


def test_tampered_signed_header(gh: Endpoint, iam: Any) -> None:
    req = signed(gh.url, CREATE)
    status, text = send(req, headers={"X-Amz-Date": (_now() + dt.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")})
    assert (status, error_code(text)) == (403, "SignatureDoesNotMatch")
    _assert_no_mallory(iam)


@pytest.mark.parametrize(("shift", "word"), [(dt.timedelta(minutes=-16), "expired"),
                                             (dt.timedelta(minutes=-60 * 24), "expired"),
                                             (dt.timedelta(minutes=16), "not yet current")])
def test_request_signed_outside_the_skew_window(gh: Endpoint, iam: Any, shift: dt.timedelta, word: str) -> None:
    before = snapshot(iam)
    status, text = send(signed(gh.url, CREATE, when=_now() + shift))
    assert status in (400, 403), text
    assert error_code(text) in ("SignatureDoesNotMatch", "RequestExpired"), text
    assert word in text.lower(), text
    assert snapshot(iam) == before


def test_request_signed_a_little_off_is_accepted(gh: Endpoint, iam: Any) -> None:
    status, text = send(signed(gh.url, CREATE, when=_now() - dt.timedelta(minutes=10)))
    assert status == 200, text
    assert iam.get_user(UserName="mallory")["User"]["UserName"] == "mallory"


def test_unsigned_request(gh: Endpoint, iam: Any) -> None:
    req = urllib.request.Request(gh.url + "/", data=CREATE.encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("an unsigned request was answered")
    except urllib.error.HTTPError as e:
        assert e.code == 403 and error_code(e.read().decode()) == "MissingAuthenticationToken"
    _assert_no_mallory(iam)


def test_unknown_action(gh: Endpoint, iam: Any) -> None:
    status, text = send(signed(gh.url, "Action=MakeMeAdmin&Version=2010-05-08"))
    assert (status, error_code(text)) == (400, "InvalidAction")
    assert "MakeMeAdmin" in text


def test_missing_action(gh: Endpoint) -> None:
    status, text = send(signed(gh.url, "Version=2010-05-08&UserName=mallory"))
    assert status == 400 and error_code(text) in ("MissingAction", "InvalidAction"), text


def test_error_envelope(gh: Endpoint) -> None:
    status, text = send(signed(gh.url, "Action=GetUser&Version=2010-05-08&UserName=nobody"))
    assert status == 404
    assert text.startswith("<ErrorResponse") and 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"' in text
    assert "<Type>Sender</Type><Code>NoSuchEntity</Code>" in text
    assert "<Message>The user with name nobody cannot be found.</Message>" in text
    assert "<RequestId>" in text


def test_success_envelope_carries_a_request_id(iam: Any) -> None:
    meta = iam.list_users()["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200 and len(meta["RequestId"]) >= 32
    assert iam.list_users()["ResponseMetadata"]["RequestId"] != meta["RequestId"]


def test_query_string_parameters_on_a_get(gh: Endpoint, iam: Any) -> None:
    """The Query protocol also accepts GET with the parameters in the (signed) query string."""
    iam.create_user(UserName="via-get")
    query = urllib.parse.urlencode({"Action": "GetUser", "Version": "2010-05-08", "UserName": "via-get"})
    req = botocore.awsrequest.AWSRequest("GET", f"{gh.url}/?{query}")
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "iam", "us-east-1").add_auth(req)
    with urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers)), timeout=10) as r:
        assert r.status == 200 and "<UserName>via-get</UserName>" in r.read().decode()


def test_rejected_requests_do_not_update_key_last_used(gh: Endpoint, iam: Any) -> None:
    iam.create_user(UserName="u")
    key = iam.create_access_key(UserName="u")["AccessKey"]
    send(signed(gh.url, CREATE, key=key["AccessKeyId"], secret="wrong"))
    send(signed(gh.url, CREATE, key=key["AccessKeyId"], secret=key["SecretAccessKey"],
                when=_now() - dt.timedelta(hours=2)))
    assert "LastUsedDate" not in iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
