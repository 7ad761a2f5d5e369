"""The audit log on every backend: held writes commit with their event or not at all, the chain links each event to
the one before, appending never bumps the account's revision, and concurrent appenders keep one chain."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid

import pytest

from gatehouse.model import Account, User
from gatehouse.storage.audit import GENESIS, EventQuery, NewEvent, chain_hash
from gatehouse.storage.repository import Duplicate
from gatehouse.storage.sql.store import SqlStore

A, B = "111111111111", "222222222222"
T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def event(chain: str = A, name: str = "GetUser", *, read_only: bool = True, username: str = "alice") -> NewEvent:
    eid = str(uuid.uuid4())
    return NewEvent(chain=chain, event_id=eid, event_time=T0, event_name=name, event_source="iam.amazonaws.com",
                    read_only=read_only, username=username, access_key_id="AKIAEXAMPLE", resource_type=None,
                    resource_name=None, record=f'{{"eventID":"{eid}","eventName":"{name}"}}')


def user(name: str) -> User:
    return User(account_id=A, user_id=f"AIDA{uuid.uuid4().hex[:17].upper()}", name=name, path="/", created=T0)


@pytest.fixture
def store(backend: SqlStore) -> SqlStore:
    backend.reset()
    for account in (A, B):
        backend.create_account(Account(account_id=account, created=T0))
    return backend


def has_user(store: SqlStore, name: str) -> bool:
    with store.read(A) as tx:
        return tx.users.get(name) is not None


def test_held_writes_commit_with_their_event(store: SqlStore) -> None:
    e = event(name="CreateUser", read_only=False)
    with store.audit.hold() as held:
        assert not held.open
        with store.write(A) as tx:
            tx.users.insert(user("alice"))
        assert held.open
        with store.write(A) as tx:  # a second block of the request joins the same transaction
            assert tx.users.get("alice") is not None
            tx.users.insert(user("bob"))
        with store.read(A) as tx:  # and reads in the request see its writes
            assert tx.users.get("bob") is not None
        held.commit([e])
    assert has_user(store, "alice") and has_user(store, "bob")
    assert [x.event_id for x in store.audit.events(A)] == [e.event_id]


def test_leaving_the_scope_without_commit_rolls_back(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.audit.hold():
        with store.write(A) as tx:
            tx.users.insert(user("carol"))
        raise RuntimeError("the use case failed after writing")
    assert not has_user(store, "carol")
    assert list(store.audit.events(A)) == []


def test_a_failed_block_inside_a_scope_undoes_only_itself(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.users.insert(user("dave"))
    with store.audit.hold() as held:
        with store.write(A) as tx:
            tx.users.insert(user("erin"))
        with pytest.raises(Duplicate), store.write(A) as tx:
            tx.users.insert(user("dave"))
        held.commit([event(name="CreateUser", read_only=False)])
    assert has_user(store, "erin")
    assert len(list(store.audit.events(A))) == 1


def test_outside_a_scope_writes_commit_at_the_end_of_the_block(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.users.insert(user("frank"))
    assert has_user(store, "frank")


def test_recording_does_not_bump_the_revision(store: SqlStore) -> None:
    before = store.revision(A)
    store.audit.append([event(), event()])
    with store.audit.hold() as held:
        held.commit([event()])  # nothing written: appended on its own
    assert store.revision(A) == before
    with store.audit.hold() as held:
        with store.write(A) as tx:
            tx.users.insert(user("gina"))
        held.commit([event(name="CreateUser", read_only=False)])
    assert store.revision(A) == before + 1  # the write's own bump, once


def test_events_chain_per_account(store: SqlStore) -> None:
    store.audit.append([event(A), event(B), event(A)])
    store.audit.append([event(A)])
    for chain, count in ((A, 3), (B, 1)):
        evs = list(store.audit.events(chain))
        assert [e.seq for e in evs] == list(range(1, count + 1))
        prev = GENESIS
        for e in evs:
            assert e.prev_hash == prev and e.hash == chain_hash(prev, e.record)
            prev = e.hash
        head = next(h for h in store.audit.heads() if h.chain == chain)
        assert (head.seq, head.hash) == (count, prev)


def test_concurrent_appenders_keep_one_chain(store: SqlStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                if i % 2:
                    store.audit.append([event(A)])
                else:
                    with store.audit.hold() as held:
                        with store.write(A) as tx:
                            tx.users.insert(user(f"u{n}-{i}"))
                        held.commit([event(A, "CreateUser", read_only=False)])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    evs = list(store.audit.events(A))
    assert [e.seq for e in evs] == list(range(1, 41))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(evs))


def test_lookup_filters_and_pages_newest_first(store: SqlStore) -> None:
    store.audit.append([event(A, "GetUser"), event(A, "CreateUser", read_only=False), event(A, "GetUser")])
    got = store.audit.lookup(EventQuery(chain=A, attribute="event_name", value="GetUser", limit=1))
    assert [e.seq for e in got] == [3]
    got = store.audit.lookup(EventQuery(chain=A, attribute="event_name", value="GetUser", before_seq=3))
    assert [e.seq for e in got] == [1]
    got = store.audit.lookup(EventQuery(chain=A, attribute="read_only", value=False))
    assert [e.seq for e in got] == [2]


def test_an_event_appended_twice_is_skipped_not_retried_forever(store: SqlStore) -> None:
    first = event()
    store.audit.append([first])
    store.audit.append([event(), first, event()])
    assert [e.seq for e in store.audit.events(A)] == [1, 2, 3]


def test_a_failed_first_block_leaves_the_request_free_to_write_again(store: SqlStore) -> None:
    with store.write(A) as tx:
        tx.users.insert(user("hank"))
    with store.audit.hold() as held:
        with pytest.raises(Duplicate), store.write(A) as tx:
            tx.users.insert(user("ivy"))
            tx.users.insert(user("hank"))
        assert not held.open
        with store.write(A) as tx:
            tx.users.insert(user("jill"))
        held.commit([event(name="CreateUser", read_only=False)])
    assert has_user(store, "jill") and not has_user(store, "ivy")
    assert len(list(store.audit.events(A))) == 1
