"""Statements built once, at import: building a SQLAlchemy expression costs more than running it on SQLite, and
repositories run on every request. Values travel as bound parameters.

Parameter names never equal column names (SQLAlchemy reserves those in INSERT/UPDATE).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Select, Table, bindparam, delete, func, insert, select

from gatehouse.model import Page
from gatehouse.storage.markers import decode_marker, encode_marker

T = TypeVar("T")


def by_prefix(path: Column[Any]) -> Any:
    """`path` begins with the bound `prefix` (exact, case-sensitive, as IAM paths compare)."""
    return func.substr(path, 1, bindparam("plen")) == bindparam("prefix")


class Keyset:
    """A name-ordered listing in two prebuilt forms: the first page, and the pages after a marker."""

    def __init__(self, query: Select[Any], key: Column[Any]) -> None:
        ordered = query.order_by(key).limit(bindparam("lim"))
        self.first = ordered
        self.after = ordered.where(key > bindparam("after"))
        self.key = key.key

    def page(self, conn: Any, params: Mapping[str, Any], after: str | None, limit: int,
             build: Callable[[Any], T]) -> Page[T]:
        args = {**params, "lim": limit + 1}
        if after:
            args["after"] = decode_marker(after)
        rows: Sequence[Any] = conn.execute(self.after if after else self.first, args).all()
        if len(rows) > limit:
            rows = rows[:limit]
            return Page([build(r) for r in rows], encode_marker(getattr(rows[-1], self.key)))
        return Page([build(r) for r in rows])


def prefix_params(prefix: str) -> dict[str, Any]:
    return {"prefix": prefix, "plen": len(prefix)}


class Named:
    """The statements every table of account-scoped, uniquely named entities needs (users, groups, roles,
    managed policies, instance profiles)."""

    def __init__(self, table: Table, id_column: Column[Any]) -> None:
        c = table.c
        account = c.account_id == bindparam("acct")
        self.get = select(table).where(account, c.name_key == bindparam("key"))
        self.by_id = select(table).where(account, id_column == bindparam("id"))
        self.all = select(table).where(account).order_by(c.name_key)
        self.count = select(func.count()).select_from(table).where(account)
        self.insert = insert(table)
        self.delete = delete(table).where(id_column == bindparam("id"))
        self.listing = Keyset(select(table).where(account, by_prefix(c.path)), c.name_key)
