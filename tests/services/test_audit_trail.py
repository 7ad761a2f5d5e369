"""The trail over a real store: a write's event commits with it (and a failed request leaves neither), reads are
batched and flushed on close, records have CloudTrail's shape, console sign-ins are ConsoleLogin events (an
unknown name hidden), and digests sign the heads."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gatehouse.credentials import LoginProfile
from gatehouse.model import Account, Caller, PrincipalKind, RequestMeta, SessionInfo, User
from gatehouse.services.audit.calls import ApiCall
from gatehouse.services.audit.signing import DigestSigner, signature_valid
from gatehouse.services.audit.signins import SigninTrail
from gatehouse.services.audit.trail import AuditTrail, TrailTiming
from gatehouse.services.mfa_codes import MfaCodes
from gatehouse.services.password_hashing import Passwords
from gatehouse.services.secretbox import SecretBox
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.signin import Signin, SigninFailed, SigninRequest
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 10, tzinfo=dt.UTC)
KEY = b"m" * 32


def caller(kind: PrincipalKind = PrincipalKind.USER, session: SessionInfo | None = None) -> Caller:
    meta = RequestMeta(request_id="req-1", source_ip="192.0.2.7", user_agent="test-agent")
    if kind is PrincipalKind.ASSUMED_ROLE:
        return Caller(account_id=ACCOUNT, kind=kind, arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/sess",
                      user_id="AROAOPS:sess", name="sess", access_key_id="ASIAEXAMPLE", request=meta,
                      principal_id="AROAOPS", session=session)
    return Caller(account_id=ACCOUNT, kind=kind, arn=f"arn:aws:iam::{ACCOUNT}:user/alice", user_id="AIDAALICE",
                  name="alice", access_key_id="AKIAALICE", request=meta, principal_id="AIDAALICE")


def call(operation: str = "GetUser", *, read_only: bool = True, who: Caller | None = None, error: str | None = None,
         params: dict[str, Any] | None = None) -> ApiCall:
    who = who or caller()
    return ApiCall(event_id=str(uuid.uuid4()), request_id=str(uuid.uuid4()), time=T0, service="iam",
                   operation=operation, region="us-east-1", source_ip="192.0.2.7", user_agent="test-agent",
                   caller=who, account_id=ACCOUNT, access_key_id=who.access_key_id, read_only=read_only,
                   request_parameters=params if params is not None else {"userName": "bob"},
                   response_elements=None if error else {"user": {"userName": "bob"}},
                   error_code=error, error_message="denied" if error else None)


@pytest.fixture
def store() -> Iterator[SqlStore]:
    s = SqlStore("sqlite://")
    s.create_account(Account(account_id=ACCOUNT, created=T0))
    yield s
    s.close()


@pytest.fixture
def trail(store: SqlStore) -> Iterator[AuditTrail]:
    t = AuditTrail(store.audit, DigestSigner(Ed25519PrivateKey.generate(), lambda: T0),
                   TrailTiming(batch=3, interval=60, digest_every=3600))
    yield t
    t.close()


def records(store: SqlStore) -> list[dict[str, Any]]:
    return [json.loads(e.record) for e in store.audit.events(ACCOUNT)]


def bob(store: SqlStore) -> bool:
    with store.read(ACCOUNT) as tx:
        return tx.users.get("bob") is not None


def insert_bob(store: SqlStore) -> None:
    with store.write(ACCOUNT) as tx:
        tx.users.insert(User(account_id=ACCOUNT, user_id="AIDABOB", name="bob", path="/", created=T0))


def test_a_write_and_its_event_commit_together(store: SqlStore, trail: AuditTrail) -> None:
    revision = store.revision(ACCOUNT)
    with trail.request() as rec:
        insert_bob(store)
        rec.finish(call("CreateUser", read_only=False))
    assert bob(store)
    assert [r["eventName"] for r in records(store)] == ["CreateUser"]  # no flush needed: same transaction
    assert store.revision(ACCOUNT) == revision + 1  # the write's bump only


def test_steps_are_events_of_their_own_in_the_same_commit(store: SqlStore, trail: AuditTrail) -> None:
    """One request doing several operations (OffboardUser): each step's event, then the request's, one commit."""
    with trail.request() as rec:
        insert_bob(store)
        rec.finish(call("OffboardUser", read_only=False),
                   [call("DeleteAccessKey", read_only=False), call("DeleteUser", read_only=False)])
    assert bob(store)
    assert [r["eventName"] for r in records(store)] == ["DeleteAccessKey", "DeleteUser", "OffboardUser"]


def test_a_request_that_fails_after_writing_leaves_no_change_and_no_event(store: SqlStore, trail: AuditTrail) -> None:
    with pytest.raises(RuntimeError), trail.request():
        insert_bob(store)
        raise RuntimeError("boom")
    trail.flush()
    assert not bob(store) and records(store) == []


def test_reads_are_batched_and_flushed_on_close(store: SqlStore, trail: AuditTrail) -> None:
    revision = store.revision(ACCOUNT)
    with trail.request() as rec:
        rec.finish(call())
    trail.record(call(error="AccessDenied", read_only=False))
    assert records(store) == []  # queued, below the batch size and before the interval
    trail.close()
    got = records(store)
    assert [r["eventName"] for r in got] == ["GetUser", "GetUser"]
    assert got[1]["errorCode"] == "AccessDenied" and got[1]["responseElements"] is None
    assert store.revision(ACCOUNT) == revision
    digests = store.audit.digests()
    assert len(digests) == 1 and signature_valid(trail.signer.public, digests[0])  # type: ignore[union-attr]
    assert json.loads(digests[0].body)["chains"][ACCOUNT]["seq"] == 2


def test_record_shape_for_an_iam_user(store: SqlStore, trail: AuditTrail) -> None:
    with trail.request() as rec:
        insert_bob(store)
        rec.finish(call("CreateUser", read_only=False))
    r = records(store)[0]
    assert r["userIdentity"] == {"type": "IAMUser", "principalId": "AIDAALICE",
                                 "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT,
                                 "accessKeyId": "AKIAALICE", "userName": "alice"}
    assert {k: r[k] for k in ("eventSource", "eventType", "managementEvent", "recipientAccountId", "readOnly")} == {
        "eventSource": "iam.amazonaws.com", "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": ACCOUNT, "readOnly": False}
    assert r["eventTime"] == "2026-03-01T12:00:10Z" and r["eventVersion"] == "1.08"
    assert "errorCode" not in r


def test_record_shape_for_an_assumed_role(store: SqlStore, trail: AuditTrail) -> None:
    session = SessionInfo(kind="assumed-role", issued=T0, expires=T0, role_name="ops", session_name="sess",
                          mfa_authenticated=True)
    trail.record(call(who=caller(PrincipalKind.ASSUMED_ROLE, session)))
    trail.flush()
    ident = records(store)[0]["userIdentity"]
    assert ident["type"] == "AssumedRole" and ident["principalId"] == "AROAOPS:sess"
    assert ident["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": "AROAOPS", "arn": f"arn:aws:iam::{ACCOUNT}:role/ops", "accountId": ACCOUNT,
        "userName": "ops"}
    assert ident["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"


def test_batches_flush_when_full(store: SqlStore, trail: AuditTrail) -> None:
    """A full batch (3 here) wakes the writer thread at once (the interval is a minute); what is left waits for
    the next flush. Which of the two writes a given batch is the thread's race: only the result is asserted."""
    for _ in range(7):
        trail.record(call())
    deadline = time.monotonic() + 10
    while len(list(store.audit.events(ACCOUNT))) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(store.audit.events(ACCOUNT))) >= 6, "full batches were not written without a flush"
    trail.flush()
    assert [e.seq for e in store.audit.events(ACCOUNT)] == list(range(1, 8))


# --- console sign-ins -------------------------------------------------------------------------------------


def test_sign_ins_are_consolelogin_events(store: SqlStore, trail: AuditTrail) -> None:
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    user = User(account_id=ACCOUNT, user_id="AIDAWALKER", name="walker", path="/", created=T0)
    with store.write(ACCOUNT) as tx:
        tx.users.insert(user)
        tx.logins.put(LoginProfile(account_id=ACCOUNT, user_id=user.user_id, password_hash=passwords.hash("Good-1pass"),
                                   created=T0, password_changed=T0))
    signin = Signin(store, passwords, MfaCodes(store, SecretBox(KEY), lambda: T0), SessionTokens(KEY), lambda: T0,
                    audit=SigninTrail(trail))
    for name, password in (("walker", "Wrong-1pass"), ("walker", "Good-1pass"), ("nobody-Secret", "Wrong-1pass")):
        try:
            signin.sign_in(SigninRequest(password=password, account=ACCOUNT, username=name, source_ip="192.0.2.9",
                                         user_agent="browser"))
        except SigninFailed:
            pass
    trail.flush()
    got = records(store)
    assert [r["responseElements"]["ConsoleLogin"] for r in got] == ["Failure", "Success", "Failure"]
    assert all(r["eventSource"] == "signin.amazonaws.com" and r["eventType"] == "AwsConsoleSignIn"
               and r["eventName"] == "ConsoleLogin" for r in got)
    assert got[1]["userIdentity"]["userName"] == "walker"
    assert got[1]["additionalEventData"]["MFAUsed"] == "No"
    assert got[2]["userIdentity"]["userName"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    text = json.dumps(got)
    assert "nobody-Secret" not in text and "Wrong-1pass" not in text and "Good-1pass" not in text
