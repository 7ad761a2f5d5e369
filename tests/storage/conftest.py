"""The storage suites' backends: one `SqlStore` per backend per module (in-memory SQLite as dev mode uses it, an
SQLite file as the default, a PostgreSQL schema of its own); each suite's `store` fixture empties and fills it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gatehouse.storage.sql.engine import sqlite_url
from gatehouse.storage.sql.store import SqlStore


@pytest.fixture(scope="module", params=["memory", "file", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: Any, pg_schema_factory: Any) -> Iterator[SqlStore]:
    if request.param == "memory":
        url = "sqlite://"
    elif request.param == "file":
        url = sqlite_url(str(tmp_path_factory.mktemp("store") / "gatehouse.db"))
    else:
        url = pg_schema_factory()
    s = SqlStore(url)
    yield s
    s.close()
