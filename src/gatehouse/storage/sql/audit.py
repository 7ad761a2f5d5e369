"""The audit trail in SQL: events appended to per-account hash chains under the chain head's row lock.

Appending reads the head `FOR UPDATE` (PostgreSQL: replicas sharing the database extend one chain one at a time;
SQLite: the writer's BEGIN IMMEDIATE already serializes), inserts the events with their hashes and moves the head,
all on the caller's connection: for a write, the request's own transaction (see `held`), so the event commits or
rolls back with the change. Nothing here touches `accounts.revision`: recording changes no permission.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from gatehouse.storage.audit import (
    GENESIS,
    ChainHead,
    DigestMaker,
    EventQuery,
    NewEvent,
    StoredDigest,
    StoredEvent,
    chain_hash,
)
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.held import Connections, HeldScope

_E, _H, _D, _R, _J = t.audit_events, t.audit_heads, t.audit_digests, t.credential_reports, t.access_reports
_HEAD_NEW = insert(_H).values(chain_id=bindparam("c"), seq=0, hash=GENESIS, first_seq=1, start_hash=GENESIS)
_EVENT_COLUMNS = (_E.c.chain_id, _E.c.seq, _E.c.event_id, _E.c.event_time, _E.c.record, _E.c.prev_hash, _E.c.hash)
_FILTERS = {"event_id": _E.c.event_id, "event_name": _E.c.event_name, "read_only": _E.c.read_only,
            "username": _E.c.username, "resource_type": _E.c.resource_type, "resource_name": _E.c.resource_name,
            "event_source": _E.c.event_source, "access_key_id": _E.c.access_key_id}


_COLUMNS = ("chain_id", "seq", "event_id", "event_time", "event_name", "event_source", "read_only", "username",
            "access_key_id", "resource_type", "resource_name", "record", "prev_hash", "hash")
# Rows go straight to the driver's executemany: SQLAlchemy's per-row parameter processing cost more than the insert.
_MARK = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_INSERT_SQL = {style: f"INSERT INTO audit_events ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
               for style, mark in _MARK.items()}
# The head is read and moved on every append, so these go to the driver too ("?" becomes the driver's mark).
_HEAD_LOCK_SQL = {True: "SELECT seq, hash FROM audit_heads WHERE chain_id = ?",  # SQLite: BEGIN IMMEDIATE locks
                  False: "SELECT seq, hash FROM audit_heads WHERE chain_id = ? FOR UPDATE"}
_HEAD_MOVE_SQL = "UPDATE audit_heads SET seq = ?, hash = ? WHERE chain_id = ?"


def append_events(conn: Connection, events: Sequence[NewEvent]) -> None:
    """Extend each event's chain, chains in a fixed order (two appenders never wait on each other's heads).

    The statements go to the driver's own cursor, in the connection's transaction: this runs in every write's
    transaction, and SQLAlchemy's execution machinery cost more than the three statements themselves."""
    ordered = sorted(events, key=lambda e: e.chain)
    mark = _MARK[conn.dialect.paramstyle]
    sqlite = conn.dialect.name == "sqlite"
    insert_sql, move_sql = _INSERT_SQL[conn.dialect.paramstyle], _HEAD_MOVE_SQL.replace("?", mark)
    lock_sql = _HEAD_LOCK_SQL[sqlite].replace("?", mark)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for chain, group in groupby(ordered, key=lambda e: e.chain):
            cursor.execute(lock_sql, (chain,))
            head = cursor.fetchone()
            seq, prev = (int(head[0]), head[1]) if head is not None else _new_head(conn, chain, cursor, lock_sql)
            rows = []
            for e in group:
                seq += 1
                digest = chain_hash(prev, e.record)
                rows.append((chain, seq, e.event_id, _time_param(sqlite, e.event_time), e.event_name[:128],
                             e.event_source[:64], e.read_only, _cut(e.username, 256), _cut(e.access_key_id, 32),
                             _cut(e.resource_type, 64), _cut(e.resource_name, 2048), e.record, prev, digest))
                prev = digest
            try:
                cursor.executemany(insert_sql, rows)
            except conn.dialect.loaded_dbapi.IntegrityError as e:  # as SQLAlchemy would have raised it
                raise IntegrityError(insert_sql, None, e) from None
            cursor.execute(move_sql, (seq, prev, chain))
    finally:
        cursor.close()


def _time_param(sqlite: bool, when: dt.datetime) -> Any:
    """What UtcDateTime would bind: naive UTC; on SQLite, as the text SQLAlchemy's SQLite DateTime stores."""
    naive = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    return naive.isoformat(" ", "microseconds") if sqlite else naive  # = strftime("%Y-%m-%d %H:%M:%S.%f"), faster


def _cut(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def _new_head(conn: Connection, chain: str, cursor: Any, lock_sql: str) -> tuple[int, str]:
    """Start a chain (once per account): another replica may start it first, then its head is locked instead."""
    for _ in range(3):
        try:
            with conn.begin_nested():
                conn.execute(_HEAD_NEW, {"c": chain})
        except IntegrityError:
            pass
        cursor.execute(lock_sql, (chain,))
        head = cursor.fetchone()
        if head is not None:
            return int(head[0]), head[1]
    raise RuntimeError(f"could not lock the audit chain head of {chain!r}")


class SqlAuditLog:
    def __init__(self, connections: Connections) -> None:
        self._c = connections

    def hold(self) -> contextlib.AbstractContextManager[HeldScope]:
        return self._c.hold(append_events)

    def append(self, events: Sequence[NewEvent]) -> None:
        """One transaction per batch. An event already in the trail (its id) is skipped, never retried forever:
        the batch is appended again one event at a time, each in a SAVEPOINT."""
        if not events:
            return
        with self._c.transaction(write=True) as conn:
            try:
                with conn.begin_nested():
                    append_events(conn, events)
                return
            except IntegrityError:
                pass
            for event in events:
                with contextlib.suppress(IntegrityError), conn.begin_nested():
                    append_events(conn, [event])

    def heads(self) -> list[ChainHead]:
        with self._c.transaction(write=False) as conn:
            rows = conn.execute(select(_H).order_by(_H.c.chain_id)).all()
        return [_head(r) for r in rows]

    def add_digest(self, created: dt.datetime, make: DigestMaker) -> StoredDigest | None:
        """Sign every head as it is now. Two replicas signing at once: one wins, the other's is not needed."""
        try:
            with self._c.transaction(write=True) as conn:
                return _sign(conn, created, make)
        except IntegrityError:
            return None

    def prune(self, before: dt.datetime, make: DigestMaker | None) -> int:
        deleted = 0
        with self._c.transaction(write=True) as conn:
            for head in [_head(r) for r in conn.execute(select(_H).order_by(_H.c.chain_id).with_for_update())]:
                last = conn.execute(select(_E.c.seq, _E.c.hash).where(
                    _E.c.chain_id == head.chain, _E.c.event_time < before).order_by(_E.c.seq.desc()).limit(1)).first()
                if last is None:
                    continue
                deleted += conn.execute(delete(_E).where(_E.c.chain_id == head.chain,
                                                         _E.c.seq <= last.seq)).rowcount or 0
                conn.execute(update(_H).where(_H.c.chain_id == head.chain).values(first_seq=int(last.seq) + 1,
                                                                                   start_hash=last.hash))
            if deleted and make is not None:
                _sign(conn, dt.datetime.now(dt.UTC), make)
        return deleted

    def digests(self) -> list[StoredDigest]:
        with self._c.transaction(write=False) as conn:
            rows = conn.execute(select(_D).order_by(_D.c.seq)).all()
        return [StoredDigest(int(r.seq), r.created, r.body, r.signature) for r in rows]

    def events(self, chain: str | None = None, since: dt.datetime | None = None) -> Iterator[StoredEvent]:
        """In pages of a thousand, each its own short read: a long export never holds a transaction open."""
        after: tuple[str, int] = ("", 0) if chain is None else (chain, 0)
        while True:
            q = select(*_EVENT_COLUMNS).order_by(_E.c.chain_id, _E.c.seq).limit(1000)
            if chain is not None:
                q = q.where(_E.c.chain_id == chain, _E.c.seq > after[1])
            else:
                q = q.where((_E.c.chain_id > after[0]) | ((_E.c.chain_id == after[0]) & (_E.c.seq > after[1])))
            if since is not None:
                q = q.where(_E.c.event_time >= since)
            with self._c.transaction(write=False) as conn:
                rows = conn.execute(q).all()
            for r in rows:
                yield _stored(r)
            if len(rows) < 1000:
                return
            after = (rows[-1].chain_id, int(rows[-1].seq))

    def lookup(self, query: EventQuery) -> list[StoredEvent]:
        q = select(*_EVENT_COLUMNS).where(_E.c.chain_id == query.chain)
        if query.start is not None:
            q = q.where(_E.c.event_time >= query.start)
        if query.end is not None:
            q = q.where(_E.c.event_time <= query.end)
        if query.attribute is not None:
            q = q.where(_FILTERS[query.attribute] == query.value)
        if query.before_seq is not None:
            q = q.where(_E.c.seq < query.before_seq)
        q = q.order_by(_E.c.seq.desc()).limit(query.limit)
        with self._c.transaction(write=False) as conn:
            return [_stored(r) for r in conn.execute(q)]

    def save_report(self, account_id: str, generated: dt.datetime, content: str) -> None:
        """The account's credential report, replacing the last one (no revision bump: it changes no permission)."""
        with self._c.transaction(write=True) as conn:
            conn.execute(delete(_R).where(_R.c.account_id == account_id))
            conn.execute(insert(_R).values(account_id=account_id, generated=generated, content=content))

    def report(self, account_id: str) -> tuple[dt.datetime, str] | None:
        with self._c.transaction(write=False) as conn:
            r = conn.execute(select(_R.c.generated, _R.c.content).where(_R.c.account_id == account_id)).first()
        return None if r is None else (r.generated, r.content)

    def save_job(self, job_id: str, account_id: str, created: dt.datetime, content: str) -> None:
        with self._c.transaction(write=True) as conn:
            conn.execute(insert(_J).values(job_id=job_id, account_id=account_id, created=created, content=content))

    def job(self, job_id: str, account_id: str) -> tuple[dt.datetime, str] | None:
        with self._c.transaction(write=False) as conn:
            r = conn.execute(select(_J.c.created, _J.c.content).where(_J.c.job_id == job_id,
                                                                      _J.c.account_id == account_id)).first()
        return None if r is None else (r.created, r.content)


def _head(r: Any) -> ChainHead:
    return ChainHead(r.chain_id, int(r.seq), r.hash, int(r.first_seq), r.start_hash)


def _sign(conn: Connection, created: dt.datetime, make: DigestMaker) -> StoredDigest:
    last = conn.execute(select(_D).order_by(_D.c.seq.desc()).limit(1)).first()
    previous = None if last is None else StoredDigest(int(last.seq), last.created, last.body, last.signature)
    heads = [_head(r) for r in conn.execute(select(_H).order_by(_H.c.chain_id))]
    seq = 1 if previous is None else previous.seq + 1
    body, signature = make(seq, previous, heads)
    conn.execute(insert(_D).values(seq=seq, created=created, body=body, signature=signature))
    return StoredDigest(seq, created, body, signature)


def _stored(r: object) -> StoredEvent:
    return StoredEvent(r.chain_id, int(r.seq), r.event_id, r.event_time, r.record,  # type: ignore[attr-defined]
                       r.prev_hash, r.hash)  # type: ignore[attr-defined]
