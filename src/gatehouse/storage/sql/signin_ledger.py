"""The sign-in ledger in SQL: rate-limit windows, failed-attempt counters and locks, the sign-in audit trail, spent
TOTP time steps and password last-used times.

Each call is one short transaction of its own (no revision bump: see `storage.credentials`). Counters are updated
with a single UPDATE whose WHERE clause decides (or a row lock on PostgreSQL), so replicas sharing the database
agree: two replicas cannot both accept the same one-time code, nor both miss a lockout.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from sqlalchemy import Connection, and_, bindparam, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gatehouse.storage.credentials import LockState, SigninEvent
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.held import Connections

_R, _L, _M = t.signin_rates, t.signin_locks, t.mfa_devices

# Built once (see store.py): these run on every sign-in attempt.
_TICK = (
    update(_R).where(_R.c.bucket == bindparam("b"))
    .values(attempts=case((_R.c.window_start == bindparam("ws"), _R.c.attempts + 1), else_=1),
            window_start=bindparam("ws"))
    .returning(_R.c.attempts)
)
_TICK_NEW = insert(_R).values(bucket=bindparam("b"), window_start=bindparam("ws"), attempts=1)
_LOCK = select(_L.c.failures, _L.c.window_start, _L.c.locked_until).where(_L.c.lock_key == bindparam("k"))
_LOCK_FOR_UPDATE = _LOCK.with_for_update()
_LOCK_SET = update(_L).where(_L.c.lock_key == bindparam("k")).values(
    failures=bindparam("f"), window_start=bindparam("ws"), locked_until=bindparam("lu"), expires=bindparam("x"))
_LOCK_NEW = insert(_L).values(lock_key=bindparam("k"), account_id=bindparam("a"), name=bindparam("n"),
                              failures=bindparam("f"), window_start=bindparam("ws"), locked_until=bindparam("lu"),
                              expires=bindparam("x"))
_LOCK_CLEAR = delete(_L).where(_L.c.lock_key == bindparam("k"))
# Rows made before `expires` was kept: forgotten once unlocked and this old (longer than any sane window).
_LEGACY_LOCK_SECONDS = 30 * 86400
_CLAIM = update(_M).where(
    _M.c.account_id == bindparam("a"), _M.c.device_id == bindparam("d"),
    or_(_M.c.last_step.is_(None), _M.c.last_step < bindparam("step")),
).values(last_step=bindparam("step"))
_EVENT = insert(t.signin_events)
_PASSWORD_USED = update(t.users).where(t.users.c.account_id == bindparam("a"),
                                       t.users.c.user_id == bindparam("u")).values(password_last_used=bindparam("w"))


class SqlSigninLedger:
    def __init__(self, connections: Connections) -> None:
        self._c = connections

    def _tx(self) -> contextlib.AbstractContextManager[Connection]:
        return self._c.transaction(write=True)

    def tick(self, bucket: str, now: int, window: int) -> int:
        start = now - now % window
        for _ in range(2):
            try:
                with self._tx() as conn:
                    attempts = conn.execute(_TICK, {"b": bucket, "ws": start}).scalar()
                    if attempts is None:
                        conn.execute(_TICK_NEW, {"b": bucket, "ws": start})
                        attempts = 1
                    return int(attempts)
            except IntegrityError:  # another replica inserted the bucket first: count again, now as an update
                continue
        return 1

    def lock_state(self, key: str) -> LockState | None:
        with self._c.transaction(write=False) as conn:
            r = conn.execute(_LOCK, {"k": key}).first()
        return LockState(r.failures, r.window_start, r.locked_until) if r else None

    def record_failure(self, key: str, account_id: str | None, name: str, now: int, window: int, threshold: int,
                       duration: int) -> int | None:
        for _ in range(2):
            try:
                with self._tx() as conn:
                    r = conn.execute(_LOCK_FOR_UPDATE, {"k": key}).first()
                    failures, start = 1, now
                    if r is not None and now - r.window_start < window:
                        failures, start = r.failures + 1, r.window_start
                    locked_until = None
                    if threshold > 0 and failures >= threshold:
                        locked_until, failures, start = now + duration, 0, now
                    params = {"k": key, "a": account_id, "n": name, "f": failures, "ws": start, "lu": locked_until,
                              "x": max(start + window, locked_until or 0)}
                    conn.execute(_LOCK_NEW if r is None else _LOCK_SET, params)
                    return locked_until
            except IntegrityError:  # another replica counted this key's first failure: count again, as an update
                continue
        return None

    def locked(self, account_id: str, now: int) -> list[tuple[str, int]]:
        with self._c.transaction(write=False) as conn:
            rows = conn.execute(select(_L.c.name, _L.c.locked_until).where(
                _L.c.account_id == account_id, _L.c.locked_until > now).order_by(_L.c.name)).all()
        return [(r.name, r.locked_until) for r in rows]

    def clear_failures(self, key: str) -> None:
        with self._tx() as conn:  # no failures and no lock: the same as no row
            conn.execute(_LOCK_CLEAR, {"k": key})

    def prune(self, now: int, rate_window: int, events_before: dt.datetime) -> tuple[int, int, int]:
        """Forget what no longer counts: rate windows that have passed, lock rows whose failure window and lock are
        both over, and sign-in events older than their retention. Returns the rows deleted from each."""
        with self._tx() as conn:
            rates = conn.execute(delete(_R).where(_R.c.window_start <= now - rate_window)).rowcount
            locks = conn.execute(delete(_L).where(or_(
                _L.c.expires <= now,
                and_(_L.c.expires.is_(None), or_(_L.c.locked_until.is_(None), _L.c.locked_until <= now),
                     _L.c.window_start <= now - _LEGACY_LOCK_SECONDS)))).rowcount
            events = conn.execute(delete(t.signin_events).where(t.signin_events.c.at < events_before)).rowcount
        return rates, locks, events

    def record_event(self, event: SigninEvent) -> None:
        with self._tx() as conn:
            conn.execute(_EVENT, {"event_id": str(uuid.uuid4()), "account_id": event.account_id,
                                  "principal": event.principal[:256], "at": event.at,
                                  "source_ip": event.source_ip[:64], "outcome": event.outcome, "mfa": event.mfa})

    def claim_step(self, account_id: str, device_id: str, step: int) -> bool:
        with self._tx() as conn:
            return conn.execute(_CLAIM, {"a": account_id, "d": device_id, "step": step}).rowcount == 1

    def password_used(self, account_id: str, user_id: str, when: dt.datetime) -> None:
        with self._tx() as conn:
            conn.execute(_PASSWORD_USED, {"a": account_id, "u": user_id, "w": when})
