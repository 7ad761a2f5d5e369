"""Whole-store snapshots and replacement, and sealed-column passes, for `gatehouse backup`, `restore` and
`rotate-master-key`.

A snapshot is every table of the schema read in ONE transaction, so it is consistent while the server writes:
on SQLite (WAL) a deferred read transaction sees the database as of its first read until it ends, and writers
carry on; on PostgreSQL the transaction is REPEATABLE READ, READ ONLY (one MVCC snapshot for every statement).
Replacement is one write transaction too: every table emptied and refilled, so a failed restore changes nothing.
Rows travel as plain Python values (str, int, bool, None, bytes, aware datetime) in the column order of the
schema of record (`tables.metadata`); the file format is the service's (`services/backup.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, and_, select, text, update

from gatehouse.storage.sql.engine import WRITE_OPTION, is_sqlite, make_engine
from gatehouse.storage.sql.migrate import alembic_config
from gatehouse.storage.sql.tables import metadata

_BATCH = 500


class SnapshotError(ValueError):
    """A snapshot or a restore the store refuses (unknown table or column, wrong schema revision)."""


@dataclass(frozen=True)
class TableRows:
    """One table of a snapshot: its name, its columns (schema order) and its rows (tuples in that order)."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[Any, ...]]


class TableLike(Protocol):
    """What replace_all loads: a table's name, columns and rows (the service's own type)."""

    @property
    def name(self) -> str: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def rows(self) -> Iterable[tuple[Any, ...]]: ...


# Tables whose `revision` keys caches (see replace_all).
_REVISIONED = ("accounts", "organizations")


def _tables() -> list[Table]:
    """Every table, parents before children (foreign keys)."""
    return list(metadata.sorted_tables)


def _revision(conn: Connection) -> str:
    try:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
    except Exception as e:  # no table, or no row: not a Gatehouse database
        raise SnapshotError("the store has no schema revision (not a Gatehouse database?)") from e


class SqlSnapshots:
    """Snapshots of, and wholesale replacement of, one SQL store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        """Where the store is, without credentials: for confirmation prompts and messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def revision(self) -> str:
        with self.engine.connect() as conn:
            rev = _revision(conn)
            conn.rollback()
        return rev

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[tuple[str, Iterator[TableRows]]]:
        """(schema revision, every table's rows), all read in one consistent read-only transaction that lasts
        until the block ends; rows are streamed, never all held in memory."""
        with self.engine.connect() as conn:
            if not is_sqlite(self.engine):
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if not is_sqlite(self.engine):
                    conn.execute(text("SET TRANSACTION READ ONLY"))
                # The first read fixes the snapshot (SQLite WAL: the read mark; PostgreSQL: the first statement).
                revision = _revision(conn)
                yield revision, self._tables_of(conn)

    def _tables_of(self, conn: Connection) -> Iterator[TableRows]:
        for table in _tables():
            cols = tuple(c.name for c in table.columns)
            order = list(table.primary_key.columns) or list(table.columns)
            yield TableRows(table.name, cols, self._rows(conn, table, order))

    @staticmethod
    def _rows(conn: Connection, table: Table, order: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
            select(table).order_by(*order))
        for row in result:
            yield tuple(row)

    def replace_all(self, tables: Iterable[TableLike]) -> dict[str, int]:
        """Empty every table and load `tables` instead, in one write transaction (all or nothing). Each account's
        and each organization's revision ends above any it had here before, so caches keyed by revision (a server
        that kept running) never mistake restored state for what they cached. Returns rows loaded per table."""
        known = {t.name: t for t in _tables()}
        loaded: dict[str, int] = {}
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            before = {name: conn.execute(text(f"SELECT COALESCE(MAX(revision), 0) FROM {name}")).scalar() or 0
                      for name in _REVISIONED}
            for table in reversed(_tables()):
                conn.execute(table.delete())
            for part in tables:
                table = known.get(part.name)
                if table is None:
                    raise SnapshotError(f"the backup has a table this version does not know: {part.name}")
                unknown = set(part.columns) - set(table.columns.keys())
                if unknown:
                    raise SnapshotError(f"the backup's table {part.name} has unknown columns {sorted(unknown)}")
                loaded[part.name] = _insert(conn, table, (dict(zip(part.columns, row, strict=True))
                                                          for row in part.rows))
            for name in _REVISIONED:
                after = conn.execute(text(f"SELECT COALESCE(MAX(revision), 0) FROM {name}")).scalar() or 0
                conn.execute(text(f"UPDATE {name} SET revision = revision + :lift"),
                             {"lift": int(max(before[name], after)) + 1})
            if not is_sqlite(self.engine):
                _reset_sequences(conn)
        return loaded

    # --- backups of an older schema revision ---

    @staticmethod
    def can_upgrade_from(revision: str) -> bool:
        """True when `revision` is an older revision of this version's migrations (one they can migrate up)."""
        script = ScriptDirectory.from_config(alembic_config())
        older = [r.revision for r in script.walk_revisions("base", "heads")]
        return revision in older and revision not in script.get_heads()

    @staticmethod
    @contextlib.contextmanager
    def upgraded(revision: str, tables: Iterable[TableLike]) -> Iterator[Iterator[TableRows]]:
        """The tables of a backup taken at an older `revision`, migrated to this version's schema: loaded into a
        scratch in-memory SQLite database created at that revision, upgraded by the same migrations a server runs,
        and read back (the whole store is held in memory meanwhile)."""
        engine = make_engine("sqlite://")
        cfg = alembic_config()
        try:
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
                old = MetaData()
                old.reflect(conn)
                conn.commit()
                with conn.begin():
                    for part in tables:
                        table = old.tables.get(part.name)
                        if table is None or part.name == "alembic_version":
                            raise SnapshotError(f"the backup has a table its revision does not: {part.name}")
                        rows = ({c: _naive(v) for c, v in zip(part.columns, row, strict=True)} for row in part.rows)
                        _insert(conn, table, rows)
                command.upgrade(cfg, "heads")
                conn.commit()
            with SqlSnapshots(engine).snapshot() as (_, parts):
                yield parts
        finally:
            engine.dispose()

    # --- sealed columns (master-key rotation) ---

    def sealed_rows(self, table: str, keys: Sequence[str], column: str,
                    extra: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
        """Every row's key columns, `extra` columns and sealed `column`, read in batches of short transactions
        (a rotation over a live server must not hold one long transaction)."""
        tbl = metadata.tables[table]
        key_cols = [tbl.c[k] for k in keys]
        wanted = [*key_cols, *(tbl.c[e] for e in extra if e not in keys), tbl.c[column]]
        after: tuple[Any, ...] | None = None
        while True:
            stmt = select(*wanted).order_by(*key_cols).limit(_BATCH)
            if after is not None:
                stmt = stmt.where(_after(key_cols, after))
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(stmt)]
                conn.rollback()
            if not rows:
                return
            yield from rows
            after = tuple(rows[-1][k] for k in keys)

    def put_server_value(self, name: str, value: str) -> None:
        """Set one of the store's shared values (`server_values`), e.g. the master key's check value."""
        table = metadata.tables["server_values"]
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            if not conn.execute(update(table).where(table.c.name == name).values(value=value)).rowcount:
                conn.execute(table.insert().values(name=name, value=value))

    def replace_sealed(self, table: str, keys: Sequence[str], column: str,
                       changes: Sequence[tuple[dict[str, Any], bytes, bytes]]) -> int:
        """Swap sealed values ((row keys, old, new)) in one short write transaction, each only if the row still
        holds the old value (a concurrent change or delete wins; the caller looks again). Returns rows changed."""
        if not changes:
            return 0
        tbl = metadata.tables[table]
        done = 0
        with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
            for row, old, new in changes:
                where = and_(*(tbl.c[k] == row[k] for k in keys), tbl.c[column] == old)
                done += conn.execute(update(tbl).where(where).values({column: new})).rowcount or 0
        return done


def _insert(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert rows in batches; returns how many."""
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            conn.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def _naive(value: Any) -> Any:
    """Reflected tables take naive UTC timestamps (the schema of record's UtcDateTime converts; they do not)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _after(cols: Sequence[Any], last: tuple[Any, ...]) -> Any:
    """Keyset paging over a (possibly composite) key: rows strictly after `last` in key order."""
    from sqlalchemy import or_

    clauses = []
    for i, col in enumerate(cols):
        clauses.append(and_(*(c == v for c, v in zip(cols[:i], last[:i], strict=True)), col > last[i]))
    return or_(*clauses)


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move any serial/identity sequence past the restored rows (a table may gain one later)."""
    for table in _tables():
        for col in table.primary_key.columns:
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") FROM "{table.name}"), 0) + 1, '
                                  "false)"), {"s": seq})
