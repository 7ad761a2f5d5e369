"""Held writes: one request's transaction kept open until the trail appends its event, then committed with it.

`Connections.hold()` sets an ambient scope (a ContextVar, so it follows the request into a worker thread that
copies the context). Inside it, the first write opens one write transaction and every later store call of the
request joins it: writes in a SAVEPOINT each (a block that raises undoes only itself, as a block of its own would),
reads and bookkeeping on the same connection (a second connection would wait on the first's lock, on SQLite, and
on PostgreSQL on its row locks). `HeldScope.commit(events)` appends the events on that connection and commits;
leaving the scope without it rolls everything back. Outside a scope every call is its own short transaction, as
before.

In memory, the one shared connection is guarded by a lock whose owner is the scope (or, outside one, the thread),
so a scope entered on the event loop and served in a worker thread still holds it as one owner. The scope must be
finished without yielding to other requests in between (the exit calls `commit` right after the use case returns).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction

from gatehouse.storage.audit import NewEvent
from gatehouse.storage.sql.engine import WRITE_OPTION

_HELD: ContextVar[HeldScope | None] = ContextVar("gatehouse_held_writes", default=None)


class OwnedLock:
    """A reentrant lock owned by the current held scope if there is one, else by the thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owner: object = None
        self._depth = 0

    @staticmethod
    def _me() -> object:
        held = _HELD.get()
        return held if held is not None else threading.get_ident()

    def acquire(self, owner: object) -> None:
        with self._cond:
            while self._depth and self._owner != owner:
                self._cond.wait()
            self._owner = owner
            self._depth += 1

    def release(self, owner: object) -> None:
        with self._cond:
            if self._owner != owner or not self._depth:
                raise RuntimeError("released by a party that does not hold it")
            self._depth -= 1
            if not self._depth:
                self._owner = None
                self._cond.notify_all()

    def __enter__(self) -> None:
        self.acquire(self._me())

    def __exit__(self, *_: object) -> None:
        self.release(self._me())


class HeldScope:
    """The held transaction of one request (None until its first write)."""

    def __init__(self, connections: Connections, append: Callable[[Connection, Sequence[NewEvent]], None]) -> None:
        self._connections = connections
        self._append = append
        self.conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._locked = False

    @property
    def open(self) -> bool:
        return self.conn is not None

    def join(self) -> Connection:
        """The held write connection, opened (BEGIN IMMEDIATE on SQLite) at the first write."""
        if self.conn is None:
            lock = self._connections.lock
            if isinstance(lock, OwnedLock):
                lock.acquire(self)
                self._locked = True
            conn = self._connections.engine.connect().execution_options(**{WRITE_OPTION: True})
            try:
                self._tx = conn.begin()
            except BaseException:
                conn.close()
                self._unlock()
                raise
            self.conn = conn
        return self.conn

    def commit(self, events: Sequence[NewEvent]) -> None:
        """Append `events` in the held transaction and commit it; without an open transaction, append them in a
        short one of their own."""
        if self.conn is None or self._tx is None:
            if events:
                with self._connections.transaction(write=True) as conn:
                    self._append(conn, events)
            return
        try:
            if events:
                self._append(self.conn, events)
            self._tx.commit()
        finally:
            self._close()

    def rollback(self) -> None:
        if self.conn is not None and self._tx is not None:
            try:
                self._tx.rollback()
            finally:
                self._close()

    def _close(self) -> None:
        conn, self.conn, self._tx = self.conn, None, None
        try:
            if conn is not None:
                conn.close()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            lock = self._connections.lock
            assert isinstance(lock, OwnedLock)
            lock.release(self)


class Connections:
    """The engine, the in-memory lock, and the way every store call gets its connection (joined or its own)."""

    def __init__(self, engine: Engine, lock: contextlib.AbstractContextManager[Any]) -> None:
        self.engine = engine
        self.lock = lock

    def held(self) -> HeldScope | None:
        held = _HELD.get()
        return held if held is not None and held._connections is self else None

    @contextlib.contextmanager
    def hold(self, append: Callable[[Connection, Sequence[NewEvent]], None]) -> Iterator[HeldScope]:
        scope = HeldScope(self, append)
        token = _HELD.set(scope)
        try:
            yield scope
        finally:
            try:
                scope.rollback()
            finally:
                with contextlib.suppress(ValueError):  # reset in another context: that context ends with it
                    _HELD.reset(token)

    @contextlib.contextmanager
    def transaction(self, *, write: bool, opens: bool = False) -> Iterator[Connection]:
        """A connection in a transaction: the held one when a write is held open (a write in a SAVEPOINT of it),
        else a short transaction of its own. Only `opens` (a unit of work's write) opens the held transaction:
        bookkeeping made before the request's first write (a failed sign-in counted) commits at once, so a request
        that then fails cannot undo it."""
        held = self.held()
        if held is not None and (held.open or (write and opens)):
            if write and not held.open:
                # The request's first write needs no SAVEPOINT: if it raises, nothing came before it, and the
                # whole held transaction is rolled back (and closed) as its own transaction would have been.
                conn = held.join()
                try:
                    yield conn
                except BaseException:
                    held.rollback()
                    raise
                return
            conn = held.join()
            if write:
                with conn.begin_nested():
                    yield conn
            else:
                yield conn
            return
        options = {WRITE_OPTION: True} if write else {}
        with self.lock, self.engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
