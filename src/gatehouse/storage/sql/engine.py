"""Engines for the three ways Gatehouse keeps data: an SQLite file (the default), SQLite in memory (dev mode),
and PostgreSQL (shared by replicas).

SQLite: WAL, foreign keys on, and explicit `BEGIN IMMEDIATE` for writers so a writer takes the database lock at
its first statement instead of failing to upgrade a read lock later; pysqlite's own transaction handling is
switched off for that. In memory there is one connection, guarded by a lock the store takes per unit of work.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

WRITE_OPTION = "gatehouse_write"


def sqlite_url(path: str) -> str:
    return f"sqlite+pysqlite:///{os.path.abspath(path)}"


def make_engine(url: str) -> Engine:
    if url in ("sqlite://", "sqlite+pysqlite://", "sqlite+pysqlite:///:memory:", "sqlite:///:memory:"):
        engine = create_engine(
            "sqlite+pysqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        _sqlite_events(engine, wal=False)
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8,
                               max_overflow=8)
        _sqlite_events(engine, wal=True)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _sqlite_events(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        # Straight to the driver: this runs for every transaction, and SQLAlchemy's statement path costs more.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
