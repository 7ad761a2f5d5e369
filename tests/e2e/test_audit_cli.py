"""`gatehouse audit verify` and `export` on a trail in an SQLite data directory and in a PostgreSQL schema: an
untouched trail verifies; an edited, deleted, inserted or reordered row (changed directly in the database, as an
intruder with the file would) is reported by name and the command exits non-zero; a chain rewritten consistently
is caught by the signed digest."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from gatehouse.cli.main import app
from gatehouse.model import Account
from gatehouse.services.audit.signing import DigestSigner, load_or_create_key
from gatehouse.services.audit.trail import AuditTrail, TrailTiming
from gatehouse.storage.audit import NewEvent, chain_hash
from gatehouse.storage.sql.engine import sqlite_url
from gatehouse.storage.sql.store import SqlStore

ACCOUNT = "123456789012"
T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
runner = CliRunner()


def event(i: int) -> NewEvent:
    eid = str(uuid.uuid4())
    record = json.dumps({"eventID": eid, "eventName": "CreateUser", "requestParameters": {"userName": f"u{i}"}},
                        sort_keys=True, separators=(",", ":"))
    return NewEvent(chain=ACCOUNT, event_id=eid, event_time=T0 + dt.timedelta(seconds=i), event_name="CreateUser",
                    event_source="iam.amazonaws.com", read_only=False, username="root", access_key_id=None,
                    resource_type="AWS::IAM::User", resource_name=f"u{i}", record=record)


class Trail:
    def __init__(self, url: str, flags: list[str], key: Path) -> None:
        self.url, self.flags = url, flags
        store = SqlStore(url)
        store.create_account(Account(account_id=ACCOUNT, created=T0))
        trail = AuditTrail(store.audit, DigestSigner(load_or_create_key(key), lambda: T0), TrailTiming())
        store.audit.append([event(i) for i in range(4)])
        trail.digest()
        store.audit.append([event(i) for i in range(4, 8)])
        trail.close()
        store.close()
        self.engine = sa.create_engine(url)

    def cli(self, *args: str) -> Any:
        return runner.invoke(app, [*args, *self.flags])

    def sql(self, statement: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(statement), params)

    def row(self, seq: int) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("select * from audit_events where seq = :s"), {"s": seq}).first()


@pytest.fixture(params=["sqlite", "postgresql"])
def trail(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_factory: Any) -> Iterator[Trail]:
    if request.param == "sqlite":
        url = sqlite_url(str(tmp_path / "gatehouse.db"))
        t = Trail(url, ["--data", str(tmp_path)], tmp_path / "audit.key")
    else:
        url = pg_schema_factory()
        key = tmp_path / "audit.key"
        t = Trail(url, ["--db", url, "--audit-key", str(key)], key)
    yield t
    t.engine.dispose()


def verify(t: Trail) -> tuple[int, str]:
    r = t.cli("audit", "verify")
    return r.exit_code, r.output


def test_an_untouched_trail_verifies(trail: Trail) -> None:
    code, text = verify(trail)
    assert code == 0, text
    assert "OK: 8 event(s) in 1 chain(s); 2 signed digest(s) verified; 0 event(s)" in text, text


def test_an_edited_record_is_reported(trail: Trail) -> None:
    record = trail.row(3).record.replace('"u2"', '"mallory"')
    trail.sql("update audit_events set record = :r where seq = 3", r=record)
    code, text = verify(trail)
    assert code == 1 and "modified" in text and "#3" in text, text


def test_a_deleted_event_is_reported(trail: Trail) -> None:
    trail.sql("delete from audit_events where seq = 5")
    code, text = verify(trail)
    assert code == 1 and "deleted" in text and "#5" in text, text


def test_a_deleted_tail_is_reported(trail: Trail) -> None:
    trail.sql("delete from audit_events where seq = 8")
    code, text = verify(trail)
    assert code == 1 and "deleted" in text, text


def test_reordered_events_are_reported(trail: Trail) -> None:
    a, b = trail.row(5), trail.row(6)
    for seq, src in ((5, b), (6, a)):  # the contents trade places; the sequence numbers stay
        trail.sql("update audit_events set event_id = :e, record = :r, prev_hash = :p, hash = :h where seq = :s",
                  e=f"x{seq}", r=src.record, p=src.prev_hash, h=src.hash, s=seq)
    code, text = verify(trail)
    assert code == 1 and "reordered" in text and "#5" in text, text


def test_an_inserted_event_is_reported(trail: Trail) -> None:
    # Shift the later events up one and forge a well-linked event in the gap: the next one no longer follows it.
    for seq in range(8, 5, -1):
        trail.sql("update audit_events set seq = :n where seq = :s", n=seq + 1, s=seq)
    prev = trail.row(5).hash
    forged = '{"eventName":"Forged"}'
    trail.sql("insert into audit_events (chain_id, seq, event_id, event_time, event_name, event_source, read_only, "
              "record, prev_hash, hash) values (:c, 6, 'forged', :t, 'Forged', 'iam.amazonaws.com', :ro, :r, :p, :h)",
              c=ACCOUNT, t=T0.replace(tzinfo=None), ro=False, r=forged, p=prev, h=chain_hash(prev, forged))
    code, text = verify(trail)
    assert code == 1 and "inserted" in text, text


def test_a_consistently_rewritten_chain_is_caught_by_the_digest(trail: Trail) -> None:
    prev = trail.row(1).hash
    for seq in range(2, 9):  # edit event 2 and recompute every hash after it, head included
        row = trail.row(seq)
        record = row.record.replace('"u1"', '"mallory"') if seq == 2 else row.record
        digest = chain_hash(prev, record)
        trail.sql("update audit_events set record = :r, prev_hash = :p, hash = :h where seq = :s", r=record, p=prev,
                  h=digest, s=seq)
        prev = digest
    trail.sql("update audit_heads set hash = :h", h=prev)
    code, text = verify(trail)
    assert code == 1 and "digest" in text, text


def test_export_writes_records_and_digests(trail: Trail, tmp_path: Path) -> None:
    r = trail.cli("audit", "export", "--since", "2000-01-01", "--format", "jsonl")
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.output.splitlines() if line.strip()]
    assert [x["requestParameters"]["userName"] for x in lines if "eventName" in x] == [f"u{i}" for i in range(8)]
    assert sum(1 for x in lines if "gatehouseDigest" in x) == 2
    out = tmp_path / "trail.jsonl"
    r = trail.cli("audit", "export", "--since", "2026-03-01T12:00:06Z", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert sum(1 for line in out.read_text().splitlines() if '"eventName"' in line) == 2


def test_pruning_keeps_the_trail_verifiable(trail: Trail, tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    store = SqlStore(trail.url, migrate=False)
    pruner = AuditTrail(store.audit, DigestSigner(load_or_create_key(key), lambda: T0),
                        TrailTiming(retention_days=1))
    # Events 0..7 are at T0+0s..7s: keep those from T0+5s on.
    assert pruner.prune(T0 + dt.timedelta(days=1, seconds=5)) == 5
    store.close()
    code, text = verify(trail)
    assert code == 0 and "OK: 3 event(s)" in text, text


def test_events_removed_from_the_start_without_a_digest_are_reported(trail: Trail) -> None:
    first_kept = trail.row(3)
    trail.sql("delete from audit_events where seq < 3")
    trail.sql("update audit_heads set first_seq = 3, start_hash = :h", h=first_kept.prev_hash)
    code, text = verify(trail)
    assert code == 1 and "deleted" in text and "before #3" in text, text
