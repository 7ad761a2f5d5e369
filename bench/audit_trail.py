"""What the audit trail costs, in process (no HTTP): the IAM use cases on an SQLite file store, each call handled as
the request path's single exit handles it (`trail.request()`, the use case, `finish`), against the same calls with
no trail; and the trail's storage per million events (SQLite file, and PostgreSQL with --pg URL).

    .venv/bin/python bench/audit_trail.py [--seconds 5] [--rounds 3] [--pg postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gatehouse.app import build
from gatehouse.model import Caller, PrincipalKind, RequestMeta
from gatehouse.services.audit.calls import ApiCall
from gatehouse.services.audit.records import api_event
from gatehouse.services.audit.trail import AuditTrail
from gatehouse.services.iam.users import Users
from gatehouse.settings import Settings


def _call(caller: Caller, op: str, params: dict[str, Any], result: dict[str, Any] | None, read_only: bool) -> ApiCall:
    return ApiCall(event_id=str(uuid.uuid4()), request_id=str(uuid.uuid4()), time=dt.datetime.now(dt.UTC),
                   service="iam", operation=op, region="us-east-1", source_ip="127.0.0.1", user_agent="bench",
                   caller=caller, account_id=caller.account_id, access_key_id=caller.access_key_id,
                   read_only=read_only, request_parameters=params, response_elements=result)


def _rate(fn: Callable[[], None], seconds: float, after: Callable[[], object] = lambda: None) -> float:
    """Calls per CPU second of this process (every thread, the trail's flusher included, and `after`, which
    appends what is still queued): the machine is shared, so wall time measures the neighbours as much as us."""
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        done += 1
    after()
    return done / (time.process_time() - cpu)


@contextlib.contextmanager
def _world(data: Path) -> Iterator[tuple[Any, Users, Caller, AuditTrail]]:
    app = build(Settings(data_dir=data))
    result = app.bootstrap()
    users = next(h for h in app.asgi.endpoint.router._routes.values()  # type: ignore[union-attr]
                 if h.operation.name == "GetUser").call.__self__
    caller = Caller(account_id=result.account_id, kind=PrincipalKind.ROOT,
                    arn=f"arn:aws:iam::{result.account_id}:root", user_id=result.account_id, name="root",
                    access_key_id=result.access_key_id, request=RequestMeta(request_id="bench"))
    assert app.trail is not None
    try:
        yield app, users, caller, app.trail
    finally:
        app.close()


def throughput(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, _world(Path(tmp)) as (_, users, caller, trail):
        users.create_user(caller, user_name="bench-target")
        n = iter(range(10**9))

        def get_plain() -> None:
            users.get_user(caller, user_name="bench-target")

        def get_traced() -> None:
            with trail.request() as rec:
                out = users.get_user(caller, user_name="bench-target")
                rec.finish(_call(caller, "GetUser", {"userName": "bench-target"}, out, True))

        def pair_plain() -> None:
            name = f"u{next(n)}"
            users.create_user(caller, user_name=name)
            users.delete_user(caller, user_name=name)

        def pair_traced() -> None:
            name = f"u{next(n)}"
            for op, fn in (("CreateUser", users.create_user), ("DeleteUser", users.delete_user)):
                with trail.request() as rec:
                    out = fn(caller, user_name=name)
                    rec.finish(_call(caller, op, {"userName": name}, out, False))

        for label, plain, traced in (("GetUser", get_plain, get_traced),
                                     ("CreateUser+DeleteUser (pairs)", pair_plain, pair_traced)):
            ratios, rates = [], []
            for _ in range(rounds):
                off = _rate(plain, seconds)
                on = _rate(traced, seconds, trail.flush)
                ratios.append(on / off)
                rates.append((off, on))
            off, on = rates[len(rates) // 2]
            print(f"{label}: trail off {off:,.0f}/CPU-s, on {on:,.0f}/CPU-s; ratio on/off median "
                  f"{statistics.median(ratios):.2f} (rounds {', '.join(f'{r:.2f}' for r in ratios)})")


def storage(pg: str | None, count: int) -> None:
    caller = Caller(account_id="123456789012", kind=PrincipalKind.USER, arn="arn:aws:iam::123456789012:user/alice",
                    user_id="AIDAEXAMPLE", name="alice", access_key_id="AKIAEXAMPLEEXAMPLE12",
                    request=RequestMeta(request_id="r"))
    events = [api_event(_call(caller, "GetUser", {"userName": "bench-target"},
                              {"user": {"userName": "bench-target", "userId": "AIDAEXAMPLE", "path": "/",
                                        "arn": "arn:aws:iam::123456789012:user/bench-target",
                                        "createDate": "2026-01-01T00:00:00Z"}}, True)) for _ in range(count)]
    from gatehouse.storage.sql.store import SqlStore

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.db")
        store = SqlStore(f"sqlite+pysqlite:///{path}")
        from sqlalchemy import text

        def size() -> int:
            with store.engine.connect() as conn:
                pages = conn.execute(text("PRAGMA page_count")).scalar() or 0
                page = conn.execute(text("PRAGMA page_size")).scalar() or 0
            return int(pages) * int(page)

        before = size()
        for i in range(0, count, 1000):
            store.audit.append(events[i:i + 1000])
        per = (size() - before) / count
        print(f"SQLite: {per:,.0f} bytes/event = {per * 1e6 / 2**20:,.0f} MiB per million events "
              f"(GetUser records, {sum(len(e.record) for e in events) / count:,.0f} bytes of JSON each)")
        store.close()
    if pg:
        store = SqlStore(pg)
        store.reset()
        for i in range(0, count, 1000):
            store.audit.append([e.__class__(**{**{f: getattr(e, f) for f in e.__slots__},
                                              "event_id": str(uuid.uuid4())}) for e in events[i:i + 1000]])
        with store.engine.connect() as conn:
            total = conn.execute(text("select pg_total_relation_size('audit_events')")).scalar() or 0
        per = int(total) / count
        print(f"PostgreSQL: {per:,.0f} bytes/event = {per * 1e6 / 2**20:,.0f} MiB per million events")
        store.reset()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--pg")
    args = parser.parse_args()
    throughput(args.seconds, args.rounds)
    storage(args.pg, args.events)


if __name__ == "__main__":
    main()
