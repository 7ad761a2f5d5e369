"""Registered workloads in SQL (`tables.workloads`). Ids are unique per account without regard to case (`id_key`);
the token's hash is unique across accounts, so a presented token finds its workload with one index probe."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from gatehouse.model import Tag, Workload
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo

_W = t.workloads
_BY_ID = select(_W).where(_W.c.account_id == bindparam("account"), _W.c.id_key == bindparam("id_key"))
_BY_TOKEN = select(_W).where(_W.c.token_hash == bindparam("token_hash"))
_INSERT = insert(_W)


def _workload(r: Any) -> Workload:
    return Workload(account_id=r.account_id, uid=r.uid, workload_id=r.workload_id, profile_id=r.profile_id,
                    profile_name=r.profile_name, token_hash=r.token_hash, ttl_seconds=int(r.ttl_seconds),
                    created=r.created, tags=tuple(Tag(k, v) for k, v in json.loads(r.tags)),
                    revoked_at=r.revoked_at)


def _tags(tags: Sequence[Tag]) -> str:
    return json.dumps([[tag.key, tag.value] for tag in tags], separators=(",", ":"))


class SqlWorkloads(_Repo):
    def get(self, workload_id: str) -> Workload | None:
        r = self.conn.execute(_BY_ID, {"account": self.account_id, "id_key": workload_id.lower()}).first()
        return _workload(r) if r else None

    def all(self) -> list[Workload]:
        rows = self.conn.execute(select(_W).where(_W.c.account_id == self.account_id).order_by(_W.c.id_key)).all()
        return [_workload(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_W).where(
            _W.c.account_id == self.account_id)).scalar_one())

    def insert(self, workload: Workload) -> None:
        self._insert(_INSERT, {
            "uid": workload.uid, "account_id": self.account_id, "workload_id": workload.workload_id,
            "id_key": workload.workload_id.lower(), "profile_id": workload.profile_id,
            "profile_name": workload.profile_name, "token_hash": workload.token_hash,
            "ttl_seconds": workload.ttl_seconds, "tags": _tags(workload.tags), "created": workload.created,
            "revoked_at": workload.revoked_at})

    def delete(self, uid: str) -> None:
        self.conn.execute(delete(_W).where(_W.c.account_id == self.account_id, _W.c.uid == uid))

    def revoke(self, uid: str, when: dt.datetime) -> None:
        self.conn.execute(update(_W).where(_W.c.account_id == self.account_id, _W.c.uid == uid,
                                           _W.c.revoked_at.is_(None)).values(revoked_at=when))

    def set_tags(self, uid: str, tags: Sequence[Tag]) -> None:
        self.conn.execute(update(_W).where(_W.c.account_id == self.account_id, _W.c.uid == uid).values(
            tags=_tags(tags)))


def workload_by_token(conn: Connection, token_hash: str) -> Workload | None:
    r = conn.execute(_BY_TOKEN, {"token_hash": token_hash}).first()
    return _workload(r) if r else None
