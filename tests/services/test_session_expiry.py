"""Session credentials expire: an in-process application whose clock the test moves, driven with real SigV4."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import build
from gatehouse.model import SessionKind
from gatehouse.services.session_tokens import InvalidSessionToken, SessionClaims, SessionTokens
from gatehouse.settings import Settings

NS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/", "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


class MovableClock:
    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def call(app, service: str, body: str, key: str = "test", secret: str = "test", token: str | None = None):
    creds = Credentials(key, secret, token)
    req = AWSRequest("POST", "http://127.0.0.1:4599/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                              "Host": "127.0.0.1:4599"})
    SigV4Auth(creds, service, "us-east-1").add_auth(req)
    status, payload = app.asgi.endpoint.handle("POST", "/", "", Headers(headers=dict(req.headers)),
                                               body.encode(), "127.0.0.1", False)
    return status, ET.fromstring(payload)


def test_session_credentials_stop_at_expiration():
    clock = MovableClock()
    app = build(Settings(dev=True, enforce=False), clock=clock)
    app.bootstrap()
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
    status, _ = call(app, "iam", "Action=CreateUser&Version=2010-05-08&UserName=u")
    assert status == 200
    status, xml = call(app, "iam", "Action=CreateAccessKey&Version=2010-05-08&UserName=u")
    key = xml.find(".//iam:AccessKeyId", NS).text
    secret = xml.find(".//iam:SecretAccessKey", NS).text
    call(app, "iam", f"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument={quote(trust)}")
    status, xml = call(app, "sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r"
                       "&RoleSessionName=ss&DurationSeconds=900", key, secret)
    assert status == 200, ET.tostring(xml)
    creds = {n: xml.find(f".//sts:{n}", NS).text for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    gci = "Action=GetCallerIdentity&Version=2011-06-15"
    assert call(app, "sts", gci, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])[0] == 200
    # Move the clock relative to the Expiration the server reported (whole seconds), not to when the test started.
    expiration = dt.datetime.fromisoformat(xml.find(".//sts:Expiration", NS).text.replace("Z", "+00:00"))
    assert dt.timedelta(seconds=898) < expiration - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=900)
    clock.offset = expiration - dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert call(app, "sts", gci, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])[0] == 200
    clock.offset = expiration - dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    status, xml = call(app, "sts", gci, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert status == 403 and xml.find(".//sts:Code", NS).text == "ExpiredToken"
    app.close()


def _claims(key_id: str = "ASIAAAAAAAAAAAAAAAAA") -> SessionClaims:
    return SessionClaims(kind=SessionKind.ASSUMED_ROLE, account_id="123456789012", access_key_id=key_id,
                         secret_access_key="s" * 40, issued=1, expires=2, principal_id="AROAX", role_name="r",
                         session_name="s", policies=("{}",), tags=(("k", "v"),), transitive_tag_keys=("k",))


def test_token_round_trip_and_binding():
    tokens = SessionTokens(b"k" * 32)
    claims = _claims()
    sealed = tokens.seal(claims)
    assert tokens.open(claims.access_key_id, sealed) == claims
    for bad_key in ("ASIABBBBBBBBBBBBBBBB", ""):
        try:
            tokens.open(bad_key, sealed)
            raise AssertionError("token opened under another access key id")
        except InvalidSessionToken:
            pass
    other = SessionTokens(b"j" * 32)
    try:
        other.open(claims.access_key_id, sealed)
        raise AssertionError("token opened under another master key")
    except InvalidSessionToken:
        pass
    assert "s" * 40 not in repr(claims)
