"""Shared fixtures: PostgreSQL schemas of our own, and real `gatehouse serve` processes on free loopback ports.

PostgreSQL tests never skip: if the database at 127.0.0.1:5432 is unreachable the fixture fails loudly, so a
green run always means both backends were exercised.
"""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy

from tests.support import PG_BASE_URL, pg_url_for_schema

pytest_plugins = ["tests.support.servers"]


@pytest.fixture(scope="session")
def pg_schema_factory():
    """Creates throwaway schemas in the shared `test` database; drops them at the end of the session."""
    engine = sqlalchemy.create_engine(PG_BASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as e:
        pytest.fail(f"PostgreSQL at {PG_BASE_URL} is required by the test suite and is not reachable: {e}")
    made: list[str] = []

    def make() -> str:
        name = f"gh_test_{os.getpid()}_{secrets.token_hex(4)}"
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
        made.append(name)
        return pg_url_for_schema(name)

    yield make
    with engine.connect() as conn:
        for name in made:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()


@pytest.fixture
def pg_url(pg_schema_factory) -> str:
    return pg_schema_factory()
