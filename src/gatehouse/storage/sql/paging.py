"""Keyset pagination over a name-ordered listing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func

from gatehouse.model import Page
from gatehouse.storage.markers import decode_marker, encode_marker

T = TypeVar("T")


def page_of(
    conn: Any, query: Select[Any], key_column: Any, after: str | None, limit: int, build: Callable[[Any], T]
) -> Page[T]:
    """Run `query` ordered by `key_column`, starting after the marker, returning at most `limit` items."""
    if after:
        query = query.where(key_column > decode_marker(after))
    rows: Sequence[Any] = conn.execute(query.order_by(key_column).limit(limit + 1)).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return Page([build(r) for r in rows], encode_marker(getattr(rows[-1], key_column.key)))
    return Page([build(r) for r in rows])


def path_starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` begins with `prefix`, comparing case-sensitively as IAM paths do (SQLite's LIKE ignores ASCII
    case, so the LIKE only narrows the scan and the exact comparison of the leading characters decides)."""
    return and_(column.startswith(prefix, autoescape=True), func.substr(column, 1, len(prefix)) == prefix)
