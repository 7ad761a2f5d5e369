"""The sign-in credential repositories and the sign-in ledger on every backend (in-memory SQLite, an SQLite file,
PostgreSQL): what the database decides must hold across replicas: a TOTP step is spent once even under racing
writers, lockout counters add up and lock, rate-limit windows count and roll over, and nothing is stored in clear
that should not be."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from gatehouse.credentials import (
    LockoutSettings,
    LoginProfile,
    MfaDevice,
    PasswordPolicy,
    RootLogin,
    ServerCertificate,
    ServiceCredential,
    SigningCertificate,
    SshPublicKey,
)
from gatehouse.model import Account, User
from gatehouse.storage.credentials import SigninEvent
from gatehouse.storage.repository import SessionState
from gatehouse.storage.sql.store import SqlStore

A = "111111111111"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(backend: SqlStore) -> SqlStore:
    backend.reset()
    backend.create_account(Account(account_id=A, created=T0))
    with backend.write(A) as tx:
        tx.users.insert(User(account_id=A, user_id="AIDAUSER1", name="alice", path="/", created=T0))
    return backend


def device(**changes: Any) -> MfaDevice:
    values: dict[str, Any] = {"account_id": A, "device_id": "AMFA1", "name": "Phone", "path": "/team/",
                              "created": T0, "sealed_seed": b"\x01sealed"}
    values.update(changes)
    return MfaDevice(**values)


def test_login_profiles_and_history(store: SqlStore) -> None:
    profile = LoginProfile(account_id=A, user_id="AIDAUSER1", password_hash="h1", created=T0, password_changed=T0)
    with store.write(A) as tx:
        tx.logins.put(profile)
        for n in range(30):
            tx.logins.remember("AIDAUSER1", T0 + dt.timedelta(seconds=n), f"h{n}", 24)
    with store.read(A) as tx:
        assert tx.logins.get("AIDAUSER1") == profile
        assert tx.logins.history("AIDAUSER1", 3) == ["h29", "h28", "h27"]
        assert len(tx.logins.history("AIDAUSER1", 100)) == 24
    with store.write(A) as tx:
        tx.logins.delete("AIDAUSER1")
    with store.read(A) as tx:
        assert tx.logins.get("AIDAUSER1") is None and tx.logins.history("AIDAUSER1", 5) == []


def test_root_login_by_email_without_case(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.logins.set_root(RootLogin(account_id=A, email="Root@Example.com", password_hash="h", password_changed=T0))
    with store.read() as tx:
        found = tx.logins.root_by_email("ROOT@example.COM")
    assert found is not None and found.account_id == A
    with store.read(A) as tx:
        account = tx.accounts.get(A)
    assert account is not None and account.root_email == "Root@Example.com"


def test_password_policy_and_lockout_settings(store: SqlStore) -> None:
    with store.write(A) as tx:
        assert tx.password_policy.get() is None and tx.password_policy.lockout() == LockoutSettings()
        tx.password_policy.put(PasswordPolicy(minimum_length=12, require_symbols=True, max_age_days=90,
                                              hard_expiry=False))
        tx.password_policy.set_lockout(LockoutSettings(threshold=3))
    with store.read(A) as tx:
        assert tx.password_policy.get() == PasswordPolicy(minimum_length=12, require_symbols=True, max_age_days=90,
                                                          hard_expiry=False)
        assert tx.password_policy.lockout() == LockoutSettings(threshold=3)


def test_mfa_devices(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.mfa.insert(device())
        tx.mfa.insert(device(device_id="AMFA2", name="spare", path="/"))
        tx.mfa.update(device(user_id="AIDAUSER1", enabled=T0, last_step=5))
    with store.read(A) as tx:
        assert tx.mfa.get("/TEAM/phone") == device(user_id="AIDAUSER1", enabled=T0, last_step=5)
        assert [d.device_id for d in tx.mfa.for_user("AIDAUSER1")] == ["AMFA1"]
        assert [d.device_id for d in tx.mfa.page("Unassigned", None, 10).items] == ["AMFA2"]
        first = tx.mfa.page("Any", None, 1)
        assert first.marker and [d.device_id for d in tx.mfa.page("Any", first.marker, 1).items] == ["AMFA1"]
        assert tx.mfa.count() == 2


def test_certificates_keys_and_service_credentials(store: SqlStore) -> None:
    server = ServerCertificate(account_id=A, certificate_id="ASCA1", name="Web", path="/", body="B", chain=None,
                               sealed_private_key=b"\x01k", uploaded=T0, expiration=T0)
    signing = SigningCertificate(account_id=A, certificate_id="C" * 32, user_id=None, body="B", fingerprint="f",
                                 status="Active", uploaded=T0)
    ssh = SshPublicKey(account_id=A, key_id="APKA1", user_id="AIDAUSER1", body="ssh-ed25519 AAAA",
                       fingerprint="aa:bb", status="Active", uploaded=T0)
    svc = ServiceCredential(account_id=A, credential_id="ACCA1", user_id="AIDAUSER1",
                            service_name="codecommit.amazonaws.com", service_user_name="alice-at-1",
                            password_hash="h", status="Active", created=T0)
    with store.write(A) as tx:
        tx.server_certificates.insert(server)
        tx.server_certificates.rename("ASCA1", "web2", "/p/")
        tx.signing_certificates.insert(signing)
        tx.ssh_keys.insert(ssh)
        tx.ssh_keys.set_status("APKA1", "Inactive")
        tx.service_credentials.insert(svc)
        tx.service_credentials.set_password("ACCA1", "h2")
    with store.read(A) as tx:
        got = tx.server_certificates.get("WEB2")
        assert got is not None and (got.name, got.path) == ("web2", "/p/")
        assert tx.signing_certificates.for_user(None) == [signing]
        assert tx.ssh_keys.for_user("AIDAUSER1")[0].status == "Inactive"
        assert tx.service_credentials.for_user("AIDAUSER1", "codecommit.amazonaws.com")[0].password_hash == "h2"
        assert tx.service_credentials.for_user(None, "cassandra.amazonaws.com") == []
        counts = tx.accounts.counts()
    assert (counts.server_certificates, counts.root_signing_certificates) == (1, 1)


def test_a_step_is_claimed_once_by_racing_writers(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.mfa.insert(device(user_id="AIDAUSER1", enabled=T0))
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        won = store.signin.claim_step(A, "AMFA1", 100)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [False] * 7 + [True]
    assert not store.signin.claim_step(A, "AMFA1", 99)
    assert store.signin.claim_step(A, "AMFA1", 101)


def test_failures_lock_then_clear(store: SqlStore) -> None:
    ledger = store.signin
    key = f"user:{A}/alice"
    assert ledger.record_failure(key, A, "alice", 1000, 60, 3, 30) is None
    assert ledger.record_failure(key, A, "alice", 1010, 60, 3, 30) is None
    assert ledger.record_failure(key, A, "alice", 1020, 60, 3, 30) == 1050
    state = ledger.lock_state(key)
    assert state is not None and state.locked_until == 1050 and state.failures == 0
    assert ledger.locked(A, 1049) == [("alice", 1050)] and ledger.locked(A, 1050) == []
    ledger.clear_failures(key)
    assert ledger.lock_state(key) is None  # cleared: no failures and no lock, the same as no row


def test_prune_keeps_only_what_still_counts(store: SqlStore) -> None:
    ledger = store.signin
    ledger.record_failure("user:a/counting", A, "counting", 1000, 60, 3, 30)  # window to 1060
    ledger.record_failure("user:a/locked", A, "locked", 1000, 60, 1, 300)  # locked to 1300
    ledger.tick("addr:192.0.2.1", 1000, 60)  # window 960..1020
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ledger.record_event(SigninEvent(account_id=A, principal="p", at=when, source_ip="192.0.2.1", outcome="x"))
    assert ledger.prune(1019, 60, when) == (0, 0, 0)
    assert ledger.prune(1060, 60, when) == (1, 1, 0)
    assert ledger.lock_state("user:a/locked") is not None and ledger.lock_state("user:a/counting") is None
    assert ledger.prune(1300, 60, when + dt.timedelta(seconds=1)) == (0, 1, 1)


def test_names_of_no_account_lock_too(store: SqlStore) -> None:
    """Locks are kept by the name typed, so one typed for an account that does not exist is counted and locked
    like any other (without an account, it shows in no account's report)."""
    ledger = store.signin
    assert ledger.record_failure("user:999999999999/bob", None, "bob", 1000, 60, 1, 30) == 1030
    state = ledger.lock_state("user:999999999999/bob")
    assert state is not None and state.locked_until == 1030
    assert ledger.record_failure("root:nobody@example.com", None, "root", 1000, 60, 1, 30) == 1030
    assert ledger.locked(A, 1000) == [] and ledger.lock_state("user:999999999999/other") is None


def test_racing_failures_all_count(store: SqlStore) -> None:
    key = f"user:{A}/alice"
    threads = [threading.Thread(target=store.signin.record_failure, args=(key, A, "alice", 1000, 60, 100, 30))
               for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    state = store.signin.lock_state(key)
    assert state is not None and state.failures == 10


def _revoked(store: SqlStore, account: str, key_id: str) -> bool:
    state = store.session_state(account, key_id)
    assert state is not None
    return state.revoked


def test_revoked_sessions_until_they_expire(store: SqlStore) -> None:
    """A signed-out session is refused by whatever reads the database (every replica) until it expires; expired
    revocations are forgotten by the next sign-out."""
    assert store.session_state(A, "ASIASESSION1") == SessionState(store.revision(A), "aws", False)
    store.revoke_session("ASIASESSION1", 2000, 1000)
    store.revoke_session("ASIASESSION1", 2000, 1001)  # twice is still once
    store.revoke_session("ASIASESSION2", 1500, 1000)
    assert store.session_state(A, "ASIASESSION1") == SessionState(store.revision(A), "aws", True)
    assert store.session_state("999999999999", "ASIASESSION1") is None
    store.revoke_session("ASIASESSION3", 3000, 1600)  # forgets ASIASESSION2, expired at 1500
    assert _revoked(store, A, "ASIASESSION2") is False
    assert _revoked(store, A, "ASIASESSION1") is True
    store.revoke_session("ASIASESSION4", 1000, 2000)  # expired already: nothing to keep
    assert _revoked(store, A, "ASIASESSION4") is False and _revoked(store, A, "ASIASESSION1") is False


def test_rate_windows(store: SqlStore) -> None:
    assert [store.signin.tick("addr:192.0.2.1", 1000 + n, 60) for n in range(3)] == [1, 2, 3]
    assert store.signin.tick("addr:192.0.2.1", 1020, 60) == 1  # 1020 starts the next 60-second window
    assert store.signin.tick("addr:192.0.2.2", 1020, 60) == 1


def test_events_and_password_last_used(store: SqlStore) -> None:
    store.signin.record_event(SigninEvent(account_id=A, principal="arn:aws:iam::111111111111:user/alice", at=T0,
                                          source_ip="192.0.2.1", outcome="Success", mfa=True))
    store.signin.password_used(A, "AIDAUSER1", T0)
    with store.read(A) as tx:
        user = tx.users.get("alice")
    assert user is not None and user.password_last_used == T0
