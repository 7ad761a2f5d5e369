"""The request path's single exit: every request to the AWS endpoint, served or refused, hands the recorder exactly
one `ApiCall` (served ones inside the recorder's scope, ended by `finish`; refused ones through `record`), with
CloudTrail's member names, no secret, and the authorization decisions taken."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from gatehouse.app import Application
from gatehouse.errors import PayloadTooLarge
from gatehouse.services.audit.calls import ApiCall
from gatehouse.wire.dispatch import Route
from tests.security.support import ACCOUNT, ROOT, Keys, call, new_app, ok, unsigned, user_with_key


class Recording:
    """A `CallRecorder` test double: what was finished inside a scope, what was recorded outside one."""

    def __init__(self) -> None:
        self.finished: list[ApiCall] = []
        self.recorded: list[ApiCall] = []
        self.rolled_back = 0
        self.open = False

    @contextmanager
    def request(self) -> Iterator[Any]:
        assert not self.open, "scopes do not nest"
        recorder, done = self, []

        class Scope:
            def finish(self, call: ApiCall) -> None:
                assert not done, "finish is called once"
                done.append(call)
                recorder.finished.append(call)

        self.open = True
        try:
            yield Scope()
        except BaseException:
            self.rolled_back += 1
            raise
        finally:
            self.open = False
        assert done, "a served call ends with finish"

    def record(self, call: ApiCall) -> None:
        assert not self.open, "a refused call is recorded outside the scope"
        self.recorded.append(call)

    def calls(self) -> list[ApiCall]:
        return self.finished + self.recorded

    def clear(self) -> None:
        self.finished.clear()
        self.recorded.clear()


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    made = new_app(enforce=True)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def rec(app: Application) -> Iterator[Recording]:
    assert app.asgi is not None
    recording = Recording()
    previous, app.asgi.endpoint.recorder = app.asgi.endpoint.recorder, recording
    try:
        yield recording
    finally:
        app.asgi.endpoint.recorder = previous


def only(rec: Recording) -> ApiCall:
    calls = rec.calls()
    assert len(calls) == 1, calls
    rec.clear()
    return calls[0]


def test_a_served_write_is_finished_in_scope_with_cloudtrail_names(app: Application, rec: Recording) -> None:
    ok(app, "iam", "CreateUser", {"UserName": "alice", "Path": "/team/", "Tags.member.1.Key": "k",
                                  "Tags.member.1.Value": "v"})
    got = rec.finished[0]
    assert only(rec) is got
    assert (got.service, got.operation, got.read_only, got.error_code) == ("iam", "CreateUser", False, None)
    assert got.request_parameters == {"userName": "alice", "path": "/team/", "tags": [{"key": "k", "value": "v"}]}
    assert got.response_elements is not None
    assert got.response_elements["user"]["userName"] == "alice"
    assert got.caller is not None and got.caller.is_root and got.account_id == ACCOUNT
    assert got.access_key_id == ROOT.key and got.region == "us-east-1" and got.source_ip == "127.0.0.1"
    assert [(d.action, d.allowed) for d in got.decisions] == [("iam:CreateUser", True)]


def test_reads_are_read_only_and_keep_no_response(app: Application, rec: Recording) -> None:
    ok(app, "iam", "ListUsers")
    got = only(rec)
    assert got.read_only and got.response_elements is None and got.request_parameters is None


def test_no_secret_reaches_the_record(app: Application, rec: Recording) -> None:
    ok(app, "iam", "CreateUser", {"UserName": "keyed"})
    made = ok(app, "iam", "CreateAccessKey", {"UserName": "keyed"})
    secret = made.text("SecretAccessKey")
    ok(app, "iam", "CreateLoginProfile", {"UserName": "keyed", "Password": "Sup3r-Secret-Pw!"})
    mfa = ok(app, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "dev"})
    seed = mfa.text("Base32StringSeed")
    session = ok(app, "sts", "GetSessionToken")
    token, session_secret = session.text("SessionToken"), session.text("SecretAccessKey")
    call(app, "iam", "ChangePassword", {"OldPassword": "Old-Secret-Pw1!", "NewPassword": "New-Secret-Pw1!"},
         Keys(made.text("AccessKeyId"), secret))
    text = repr(rec.calls())
    for value in (secret, "Sup3r-Secret-Pw!", seed, token, session_secret, "Old-Secret-Pw1!", "New-Secret-Pw1!"):
        assert value not in text
    keys = {c.operation: c for c in rec.calls()}
    assert keys["CreateAccessKey"].response_elements is not None
    assert "secretAccessKey" not in keys["CreateAccessKey"].response_elements["accessKey"]
    assert keys["CreateAccessKey"].response_elements["accessKey"]["userName"] == "keyed"
    assert keys["CreateLoginProfile"].request_parameters == {"userName": "keyed"}
    assert keys["GetSessionToken"].read_only and keys["GetSessionToken"].response_elements is not None
    assert "sessionToken" not in keys["GetSessionToken"].response_elements["credentials"]
    assert len(rec.calls()) == 6
    rec.clear()


def test_a_bad_signature_is_recorded_without_a_caller(app: Application, rec: Recording) -> None:
    answer = call(app, "iam", "CreateUser", {"UserName": "x"}, Keys(ROOT.key, "wrong"))
    assert answer.code == "SignatureDoesNotMatch"
    got = only(rec)
    assert (got.caller, got.account_id, got.error_code) == (None, ACCOUNT, "SignatureDoesNotMatch")
    assert got.operation == "" and got.request_parameters is None and got.response_elements is None


def test_an_unknown_key_names_the_account_its_id_encodes(app: Application, rec: Recording) -> None:
    key = user_with_key(app, "gone")
    ok(app, "iam", "DeleteAccessKey", {"UserName": "gone", "AccessKeyId": key.key})
    rec.clear()
    assert call(app, "iam", "GetUser", {}, key).code == "InvalidClientTokenId"
    got = only(rec)
    assert (got.caller, got.account_id, got.access_key_id) == (None, ACCOUNT, key.key)


def test_unknown_actions_and_validation_errors_are_recorded(app: Application, rec: Recording) -> None:
    assert call(app, "iam", "NoSuchAction").code == "InvalidAction"
    got = only(rec)
    assert (got.operation, got.error_code) == ("NoSuchAction", "InvalidAction")
    assert call(app, "iam", "CreateUser", {"UserName": "bad name!"}).code == "ValidationError"
    got = only(rec)
    assert (got.operation, got.error_code) == ("CreateUser", "ValidationError")
    assert got.request_parameters == {"userName": "bad name!"} and got.caller is not None


def test_access_denied_and_allowed_calls_carry_their_deciding_statements(app: Application, rec: Recording) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadUsers", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]})
    bob = user_with_key(app, "bob", policy=policy)
    rec.clear()
    ok(app, "iam", "GetUser", {"UserName": "bob"}, bob)
    got = only(rec)
    assert [(d.action, d.allowed, d.policy, d.statement) for d in got.decisions] == [
        ("iam:GetUser", True, "user/bob/inline", "ReadUsers")]
    assert got.caller is not None and got.caller.name == "bob"
    assert call(app, "iam", "DeleteUser", {"UserName": "bob"}, bob).code == "AccessDenied"
    got = only(rec)
    assert got.error_code == "AccessDenied"
    assert [(d.allowed, d.policy, d.statement) for d in got.decisions] == [(False, "user/bob/inline", "1")]
    assert call(app, "iam", "CreateUser", {"UserName": "nope"}, bob).code == "AccessDenied"
    got = only(rec)
    assert [(d.action, d.allowed, d.policy) for d in got.decisions] == [("iam:CreateUser", False, None)]


def test_a_refused_served_call_rolls_back_its_scope_then_is_recorded(app: Application, rec: Recording) -> None:
    assert call(app, "iam", "DeleteUser", {"UserName": "nobody"}).code == "NoSuchEntity"
    assert rec.rolled_back == 1 and not rec.finished
    got = only(rec)
    assert (got.operation, got.error_code, got.response_elements) == ("DeleteUser", "NoSuchEntity", None)


def test_an_internal_failure_is_recorded(app: Application, rec: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: Route, caller: Any, params: Any) -> dict[str, Any]:
        raise RuntimeError("a bug, with internal detail")

    monkeypatch.setattr(Route, "invoke", boom)
    answer = call(app, "iam", "GetUser")
    assert answer.status == 500 and b"internal detail" not in answer.body
    got = only(rec)
    assert got.error_code == "InternalFailure" and "internal detail" not in (got.error_message or "")


def test_unsigned_requests_are_recorded(app: Application, rec: Recording) -> None:
    assert unsigned(app, {"Action": "GetUser", "Version": "2010-05-08"}).code == "MissingAuthenticationToken"
    got = only(rec)
    assert (got.operation, got.caller, got.error_code) == ("GetUser", None, "MissingAuthenticationToken")
    answer = unsigned(app, {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "RoleSessionName": "s",
                            "WebIdentityToken": "not.a.jwt.secret-token-text"})
    assert answer.status == 400
    got = only(rec)
    assert (got.service, got.operation, got.read_only) == ("sts", "AssumeRoleWithWebIdentity", True)
    assert "secret-token-text" not in repr(got)
    assert got.request_parameters == {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "roleSessionName": "s"}


def test_a_request_rejected_before_reading_is_recorded(app: Application, rec: Recording) -> None:
    assert app.asgi is not None
    reply = app.asgi.endpoint.reject(PayloadTooLarge("Request body is too large."), {}, "10.0.0.1")
    assert reply.status == 413
    got = only(rec)
    assert (got.error_code, got.source_ip) == ("RequestEntityTooLarge", "10.0.0.1")


def test_a_trust_policy_decision_reaches_the_record(app: Application, rec: Recording) -> None:
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RootMayAssume", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}]})
    ok(app, "iam", "CreateRole", {"RoleName": "assumable", "AssumeRolePolicyDocument": trust})
    carol = user_with_key(app, "carol", policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    rec.clear()
    ok(app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/assumable", "RoleSessionName": "sess"},
       carol)
    got = only(rec)
    assert [(d.action, d.allowed) for d in got.decisions] == [("sts:AssumeRole", True)]
    assert got.decisions[0].statement in ("RootMayAssume", "0")


def test_a_throttled_request_is_recorded() -> None:
    throttled = new_app(throttle_per_key=1.0)
    try:
        assert throttled.asgi is not None
        recording = Recording()
        throttled.asgi.endpoint.recorder = recording
        codes = [call(throttled, "iam", "ListUsers").code for _ in range(6)]
        assert "Throttling" in codes
        assert len(recording.calls()) == 6
        refused = [c for c in recording.recorded if c.error_code == "Throttling"]
        assert refused and refused[0].caller is None and refused[0].account_id == ACCOUNT
    finally:
        throttled.close()
