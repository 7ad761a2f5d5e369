"""Keyset pagination over a name-ordered listing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select

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
