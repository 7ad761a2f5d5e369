"""The resource registry in SQL: one row per registered resource, tags as a JSON list beside it.

Tags live in the row rather than in the shared `tags` table: a resource is named by its ARN (up to 2,048
characters), longer than that table's owner ids, and a resource's tags are always read with it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from gatehouse.model import Page, RegisteredResource, Tag
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.sql import tables as t
from gatehouse.storage.sql.identities import _Repo

_R = t.registered_resources
_BY_ARN = select(_R).where(_R.c.account_id == bindparam("account"), _R.c.arn == bindparam("arn"))
_INSERT = insert(_R)


def _resource(r: Any) -> RegisteredResource:
    return RegisteredResource(account_id=r.account_id, arn=r.arn, service=r.service,
                              tags=tuple(Tag(k, v) for k, v in json.loads(r.tags)), policy=r.policy,
                              created=r.created, updated=r.updated)


def _tags(resource: RegisteredResource) -> str:
    return json.dumps([[tag.key, tag.value] for tag in resource.tags])


class SqlResources(_Repo):
    def get(self, arn: str) -> RegisteredResource | None:
        r = self.conn.execute(_BY_ARN, {"account": self.account_id, "arn": arn}).first()
        return _resource(r) if r else None

    def page(self, service: str | None, after: str | None, limit: int) -> Page[RegisteredResource]:
        query = select(_R).where(_R.c.account_id == self.account_id)
        if service is not None:
            query = query.where(_R.c.service == service)
        if after is not None:
            query = query.where(_R.c.arn > decode_marker(after))
        rows = self.conn.execute(query.order_by(_R.c.arn).limit(limit + 1)).all()
        items = [_resource(r) for r in rows[:limit]]
        return Page(items, encode_marker(items[-1].arn) if len(rows) > limit else None)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_R).where(
            _R.c.account_id == self.account_id)).scalar_one())

    def insert(self, resource: RegisteredResource) -> None:
        self._insert(_INSERT, {"account_id": self.account_id, "arn": resource.arn, "service": resource.service,
                               "tags": _tags(resource), "policy": resource.policy, "created": resource.created,
                               "updated": resource.updated})

    def update(self, resource: RegisteredResource) -> None:
        self.conn.execute(update(_R).where(_R.c.account_id == self.account_id, _R.c.arn == resource.arn).values(
            tags=_tags(resource), policy=resource.policy, updated=resource.updated))

    def delete(self, arn: str) -> None:
        self.conn.execute(delete(_R).where(_R.c.account_id == self.account_id, _R.c.arn == arn))
