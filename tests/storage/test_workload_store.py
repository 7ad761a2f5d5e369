"""Registered workloads in storage, on every backend: ids unique per account without regard to case, a token's hash
found across accounts, and a workload's sessions refused (in the one session-state query) once it is revoked or
gone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gatehouse.model import Account, Tag, Workload
from gatehouse.storage.repository import Duplicate
from gatehouse.storage.sql.store import SqlStore

A, B = "111111111111", "222222222222"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(backend: SqlStore) -> SqlStore:
    backend.reset()
    for account in (A, B):
        backend.create_account(Account(account_id=account, created=T0))
    return backend


def workload(workload_id: str, account: str = A, *, uid: str | None = None, token_hash: str | None = None
             ) -> Workload:
    return Workload(account_id=account, uid=uid or f"uid-{account}-{workload_id}", workload_id=workload_id,
                    profile_id="AIPA00000000000000001", profile_name="web", token_hash=token_hash or "h" + uid_of(
                        account, workload_id), ttl_seconds=3600, created=T0, tags=(Tag("team", "data"),))


def uid_of(account: str, workload_id: str) -> str:
    return f"{account}{workload_id}".ljust(63, "0")


def test_a_workload_reads_back_as_written_and_by_id_without_case(store: SqlStore) -> None:
    made = workload("Web-1")
    with store.write(A) as tx:
        tx.workloads.insert(made)
    with store.read(A) as tx:
        assert tx.workloads.get("web-1") == made
        assert tx.workloads.all() == [made] and tx.workloads.count() == 1
    with store.read(B) as tx:
        assert tx.workloads.get("web-1") is None and tx.workloads.all() == []


def test_ids_are_unique_per_account_without_case_and_hashes_everywhere(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.workloads.insert(workload("web-1"))
    with pytest.raises(Duplicate), store.write(A) as tx:
        tx.workloads.insert(workload("WEB-1", uid="another", token_hash="x" * 64))
    with store.write(B) as tx:  # another account may use the same id
        tx.workloads.insert(workload("web-1", B))
    with pytest.raises(Duplicate), store.write(B) as tx:
        tx.workloads.insert(workload("web-2", B, token_hash=workload("web-1").token_hash))


def test_a_token_hash_finds_its_workload_in_any_account(store: SqlStore) -> None:
    made = workload("batch", B)
    with store.write(B) as tx:
        tx.workloads.insert(made)
    assert store.workload_by_token(made.token_hash) == made
    assert store.workload_by_token("0" * 64) is None


def test_revoking_tags_and_deleting(store: SqlStore) -> None:
    made = workload("web-1")
    with store.write(A) as tx:
        tx.workloads.insert(made)
        tx.workloads.set_tags(made.uid, [Tag("env", "prod")])
        tx.workloads.revoke(made.uid, T0 + dt.timedelta(hours=1))
    with store.read(A) as tx:
        found = tx.workloads.get("web-1")
    assert found == dataclasses.replace(made, tags=(Tag("env", "prod"),), revoked_at=T0 + dt.timedelta(hours=1))
    with store.write(A) as tx:
        tx.workloads.revoke(made.uid, T0 + dt.timedelta(hours=2))  # revoked once: the first time stays
        assert tx.workloads.get("web-1").revoked_at == T0 + dt.timedelta(hours=1)  # type: ignore[union-attr]
        tx.workloads.delete(made.uid)
    with store.read(A) as tx:
        assert tx.workloads.get("web-1") is None


def test_a_workload_session_is_revoked_with_its_workload(store: SqlStore) -> None:
    made = workload("web-1")
    with store.write(A) as tx:
        tx.workloads.insert(made)
    state = store.session_state(A, "ASIAEXAMPLE", made.uid)
    assert state is not None and not state.revoked
    assert store.session_state(A, "ASIAEXAMPLE", "no-such-uid").revoked  # type: ignore[union-attr]
    assert store.session_state(B, "ASIAEXAMPLE", made.uid).revoked  # type: ignore[union-attr]  # another account's
    with store.write(A) as tx:
        tx.workloads.revoke(made.uid, T0)
    assert store.session_state(A, "ASIAEXAMPLE", made.uid).revoked  # type: ignore[union-attr]
    assert not store.session_state(A, "ASIAEXAMPLE").revoked  # type: ignore[union-attr]  # other sessions unaffected
