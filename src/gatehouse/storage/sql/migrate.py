"""Apply Alembic migrations on start. Replicas sharing PostgreSQL take an advisory lock so one migrates at a time."""

from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, inspect, text

from gatehouse.storage.sql.tables import metadata

_HERE = os.path.dirname(os.path.abspath(__file__))
_LOCK_ID = 0x6761746568  # "gateh"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(_HERE, "migrations"))
    return cfg


class SchemaMismatch(RuntimeError):
    """The database says it is at the latest migration but lacks tables this version needs."""


def check_schema(conn: Connection) -> None:
    """Refuse to run on a database whose tables do not match the code (rather than fail on some later request)."""
    present = set(inspect(conn).get_table_names())
    missing = sorted(set(metadata.tables) - present)
    if missing:
        raise SchemaMismatch(f"the database is missing tables {', '.join(missing)}; it was created by another "
                             "version of Gatehouse's migrations. Use a fresh database or schema.")


def upgrade(engine: Engine) -> None:
    cfg = alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_ID})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
            check_schema(conn)
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_ID})
                conn.commit()
