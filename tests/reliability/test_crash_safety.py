"""SIGKILL during a sustained write load, on both backends: after a restart every write that was acknowledged to a
client is there (and whole: its tags, and its access key still signs), no write that was refused is, the audit trail
verifies (`gatehouse audit verify`: every chain recomputes, every signed digest holds), and the database is
consistent (SQLite's `integrity_check` and `foreign_key_check`; on PostgreSQL, queries for orphans,
duplicate names and a revision that counts every acknowledged write).

Bounded: the load runs until `MIN_ACKS` writes are acknowledged or `MAX_LOAD_S` passes, then the process group is
killed. Each backend costs two server starts and a few seconds of load."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running

WRITERS = 3
MIN_ACKS = 120
MAX_LOAD_S = 6.0
TAGS = 3  # each acknowledged user carries this many tags: a write is one transaction over several rows


@dataclass
class Outcome:
    acked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # user -> acknowledged access key
    server_errors: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # in flight when the server died: either outcome is right


def _writer(ep: Endpoint, t: int, stop: threading.Event, out: Outcome, lock: threading.Lock) -> None:
    iam = ep.client("iam")
    for i in range(100_000):
        if stop.is_set():
            return
        name = f"crash-{t}-{i}"
        tags = [{"Key": f"k{j}", "Value": f"{name}-{j}"} for j in range(TAGS)]
        if i % 7 == 6:  # refused by validation, after authentication: 51 tags
            tags = [{"Key": f"k{j}", "Value": "v"} for j in range(51)]
        try:
            iam.create_user(UserName=name, Tags=tags)
        except ClientError as e:
            with lock:
                if e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
                    out.server_errors.append(f"{name}: {e.response['Error']['Code']}")
                else:
                    out.refused.append(name)
            continue
        except Exception:  # the connection broke: the server is gone and this write's fate is unknown
            with lock:
                out.unknown.append(name)
            return
        with lock:
            out.acked.append(name)
        if i % 5 == 0:
            try:
                made = iam.create_access_key(UserName=name)["AccessKey"]
            except Exception:
                return
            with lock:
                out.keys[name] = (made["AccessKeyId"], made["SecretAccessKey"])


def _load_then_kill(ep: Endpoint) -> Outcome:
    out, lock, stop = Outcome(), threading.Lock(), threading.Event()
    pool = [threading.Thread(target=_writer, args=(ep, t, stop, out, lock), daemon=True) for t in range(WRITERS)]
    for thread in pool:
        thread.start()
    deadline = time.monotonic() + MAX_LOAD_S
    while len(out.acked) < MIN_ACKS and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(ep.pid, signal.SIGKILL)  # the whole process group: no shutdown hook runs
    stop.set()
    for thread in pool:
        thread.join(30)
    return out


def _all_users(ep: Endpoint) -> dict[str, dict[str, str]]:
    iam = ep.client("iam")
    names = {u["UserName"] for page in iam.get_paginator("list_users").paginate(PathPrefix="/") for u in page["Users"]}
    return {n: {} for n in names}


def _check_survivors(ep: Endpoint, out: Outcome) -> None:
    iam = ep.client("iam")
    present = _all_users(ep)
    lost = [n for n in out.acked if n not in present]
    ghosts = [n for n in out.refused if n in present]
    assert not lost, f"{len(lost)} of {len(out.acked)} acknowledged writes lost: {lost[:5]}"
    assert not ghosts, f"refused writes present: {ghosts[:5]}"
    for name in out.acked[:: max(1, len(out.acked) // 20)]:  # a sample: each write is whole
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
        assert tags == {f"k{j}": f"{name}-{j}" for j in range(TAGS)}, (name, tags)
    for name, (key, secret) in list(out.keys.items())[:10]:  # sealed secrets survive and still open
        who = ep.client("sts", key, secret).get_caller_identity()["Arn"]
        assert who == f"arn:aws:iam::{ACCOUNT}:user/{name}"


def _revision_and_orphans(conn: Any) -> tuple[int, list[Any]]:
    """Consistency queries that hold on either backend."""
    text = sqlalchemy.text
    revision = conn.execute(text("SELECT revision FROM accounts WHERE account_id = :a"), {"a": ACCOUNT}).scalar_one()
    problems: list[Any] = []
    for what, query in [
        ("duplicate user names", "SELECT account_id, name_key FROM users GROUP BY account_id, name_key "
                                 "HAVING count(*) > 1"),
        ("user tags without a user", "SELECT t.owner_id FROM tags t LEFT JOIN users u ON u.user_id = t.owner_id "
                                     "WHERE t.owner_kind = 'user' AND u.user_id IS NULL"),
        ("keys without a user", "SELECT k.access_key_id FROM access_keys k LEFT JOIN users u ON u.user_id = k.user_id "
                                "WHERE k.user_id IS NOT NULL AND u.user_id IS NULL"),
        ("rows of no account", "SELECT u.user_id FROM users u LEFT JOIN accounts a ON a.account_id = u.account_id "
                               "WHERE a.account_id IS NULL"),
        ("users with a partial tag set", "SELECT u.name FROM users u JOIN tags t ON t.owner_id = u.user_id "
                                         f"WHERE u.name LIKE 'crash-%' GROUP BY u.name HAVING count(*) <> {TAGS}"),
    ]:
        rows = conn.execute(text(query)).fetchall()
        if rows:
            problems.append((what, rows[:3]))
    return int(revision), problems


def _tag_owner_kind_is_user(conn: Any) -> bool:
    return bool(conn.execute(sqlalchemy.text("SELECT count(*) FROM tags WHERE owner_kind = 'user'")).scalar_one())


def _audit_verify(flags: list[str], env: dict[str, str]) -> None:
    """`gatehouse audit verify` on the crashed store: every chain recomputes and every signed digest holds."""
    done = subprocess.run([sys.executable, "-m", "gatehouse", "audit", "verify", *flags], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, (done.stdout + done.stderr)[-1500:]


def _crash_and_check(args: list[str], env: dict[str, str], extra: dict[str, str]) -> Outcome:
    with running(*args, env=env) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        out = _load_then_kill(ep)
    assert not out.server_errors, f"5xx under load: {out.server_errors[:3]}"
    assert len(out.acked) >= 20, f"only {len(out.acked)} writes acknowledged before the kill"
    assert out.refused, "no write was refused: the load did not exercise refusals"
    with running(*args, env=env) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        _check_survivors(ep, out)
    print(f"SIGKILL after {len(out.acked)} acknowledged creates, {len(out.keys)} keys, {len(out.refused)} refused, "
          f"{len(out.unknown)} in flight: all checked")  # the figures for bench/README.md (pytest -s)
    return out


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {"GATEHOUSE_MASTER_KEY": extra["GATEHOUSE_MASTER_KEY"]} if "GATEHOUSE_MASTER_KEY" in extra else {}


@pytest.mark.e2e
def test_sigkill_under_write_load_on_sqlite(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args, extra = persistent_args(data_dir=str(data))
    out = _crash_and_check(args, _env(extra), extra)
    _audit_verify(["--data", str(data)], {})
    con = sqlite3.connect(data / "gatehouse.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()
    engine = sqlalchemy.create_engine(f"sqlite:///{data / 'gatehouse.db'}")
    try:
        with engine.connect() as conn:
            revision, problems = _revision_and_orphans(conn)
            assert _tag_owner_kind_is_user(conn)
    finally:
        engine.dispose()
    assert problems == []
    assert revision >= len(out.acked) + len(out.keys)  # every acknowledged write bumped the account's revision


@pytest.mark.e2e
@pytest.mark.postgres
def test_sigkill_under_write_load_on_postgresql(pg_schema_factory: Any, tmp_path: Path) -> None:
    url, key = pg_schema_factory(), str(tmp_path / "audit.key")
    args, extra = persistent_args(db_url=url)
    out = _crash_and_check([*args, "--audit-key", key], _env(extra), extra)
    _audit_verify(["--db", url, "--audit-key", key], _env(extra))
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            revision, problems = _revision_and_orphans(conn)
            assert _tag_owner_kind_is_user(conn)
            # No transaction of the killed server is left open, holding locks over the account's row.
            waiting = conn.execute(sqlalchemy.text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                "AND query_start < now() - interval '30 seconds'")).scalar_one()
    finally:
        engine.dispose()
    assert problems == []
    assert revision >= len(out.acked) + len(out.keys)
    assert waiting == 0
