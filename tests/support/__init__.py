"""Helpers shared by the test suites."""

from __future__ import annotations

import os
import urllib.parse

PG_BASE_URL = os.environ.get("GATEHOUSE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MASTER_KEY = "Z2F0ZWhvdXNlLXRlc3QtbWFzdGVyLWtleS0zMmJ5dGU="  # 32 bytes, base64; tests only
ACCOUNT = "123456789012"


def pg_url_for_schema(schema: str) -> str:
    """The base URL with libpq's search_path set, so every table lands in `schema`."""
    options = urllib.parse.quote(f"-csearch_path={schema}")
    sep = "&" if "?" in PG_BASE_URL else "?"
    return f"{PG_BASE_URL}{sep}options={options}"
