"""The resource registry's pieces in process, on SQLite and PostgreSQL: the repository (paging, updates), backup
and restore carrying registered resources, which ARNs may be registered, and how POST /authorize reads a question
(policies refused, derived condition keys refused, bounds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.app import Application, build, snapshots
from gatehouse.errors import InvalidParameterException
from gatehouse.model import RegisteredResource, Tag
from gatehouse.services.backup import restore_backup, write_backup
from gatehouse.services.bootstrap import create_account
from gatehouse.services.resources.arns import registrable
from gatehouse.services.resources.authorize import MAX_CONTEXT_KEYS, Unanswerable, read_question
from gatehouse.settings import Secret, Settings
from tests.support import MASTER_KEY

NOW = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
ACCOUNT = "111111111111"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_factory: Any) -> Iterator[Application]:
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path / "data", master_key=Secret(MASTER_KEY))
    else:
        settings = Settings(db_url=pg_schema_factory(), master_key=Secret(MASTER_KEY))
    made = build(settings)
    create_account(made.store, made.box, made.clock, ACCOUNT)
    yield made
    made.close()


def resource(n: int, policy: str | None = None) -> RegisteredResource:
    return RegisteredResource(ACCOUNT, f"arn:aws:notes:us-east-1:{ACCOUNT}:note/{n:03d}", "notes",
                              (Tag("team", "blue"), Tag("Team", "red")), policy, NOW, NOW)


def test_the_repository_pages_in_arn_order_and_updates(app: Application) -> None:
    with app.store.write(ACCOUNT) as tx:
        for n in (3, 1, 2):
            tx.resources.insert(resource(n))
    with app.store.read(ACCOUNT) as tx:
        first = tx.resources.page(None, None, 2)
        second = tx.resources.page(None, first.marker, 2)
        assert [r.arn[-3:] for r in first.items + second.items] == ["001", "002", "003"]
        assert second.marker is None and tx.resources.count() == 3
        assert tx.resources.page("queue", None, 10).items == []
        assert tx.resources.get(resource(1).arn) == resource(1)
    with app.store.write(ACCOUNT) as tx:
        tx.resources.update(RegisteredResource(ACCOUNT, resource(1).arn, "notes", (), "{}", NOW, NOW))
        tx.resources.delete(resource(2).arn)
    with app.store.read(ACCOUNT) as tx:
        got = tx.resources.get(resource(1).arn)
        assert got is not None and got.tags == () and got.policy == "{}"
        assert tx.resources.get(resource(2).arn) is None


def test_backup_and_restore_carry_the_registry(app: Application, tmp_path: Path) -> None:
    with app.store.write(ACCOUNT) as tx:
        tx.resources.insert(resource(1, '{"Version": "2012-10-17"}'))
    file = tmp_path / "store.gh"
    summary = write_backup(file, snapshots(app), app.box, NOW)
    assert summary.rows["registered_resources"] == 1
    with app.store.write(ACCOUNT) as tx:
        tx.resources.delete(resource(1).arn)
    restore_backup(file, snapshots(app), app.box)
    with app.store.read(ACCOUNT) as tx:
        assert tx.resources.get(resource(1).arn) == resource(1, '{"Version": "2012-10-17"}')


@pytest.mark.parametrize("arn, ok", [
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:note/1", True),
    (f"arn:aws:notes::{ACCOUNT}:note/1", True),
    (f"arn:aws:s3:::{ACCOUNT}", False),  # no account: not provably the caller's
    (f"arn:aws:organizations::{ACCOUNT}:account/x", False),
    (f"arn:aws:gatehouse:us-east-1:{ACCOUNT}:x", False),
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:note/ 1", False),
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:note/?", False),
    (f"arn:aws:Notes:us-east-1:{ACCOUNT}:note/1", False),
    (f"arn:aws:notes:us-east-1:{ACCOUNT}:" + "x" * 2048, False),
])
def test_registrable_arns(arn: str, ok: bool) -> None:
    if ok:
        assert registrable(arn, ACCOUNT, "aws").service == "notes"
    else:
        with pytest.raises(InvalidParameterException):
            registrable(arn, ACCOUNT, "aws")


BASE = {"principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": "notes:GetNote",
        "resource": f"arn:aws:notes:us-east-1:{ACCOUNT}:note/1"}


@pytest.mark.parametrize("change, words", [
    ({"policies": {}}, "never supplied"),
    ({"principal": None}, "exactly one of"),
    ({"signed_request": {"method": "GET"}}, "exactly one of"),
    ({"action": "GetNote"}, "request.action"),
    ({"resource": 5}, "request.resource"),
    ({"resource_account": "12"}, "12-digit"),
    ({"context": {"aws:PrincipalArn": "x"}}, "derives this key"),
    ({"context": {"aws:ResourceTag/team": "blue"}}, "derives this key"),
    ({"context": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, "derives this key"),
    ({"context": {"iam:PolicyARN": "x"}}, "derives this key"),
    ({"context": {"sts:ExternalId": "x"}}, "derives this key"),
    ({"context": {"nocolon": "x"}}, "namespace:name"),
    ({"context": {"notes:Owner": 5}}, "values must be strings"),
    ({"context": {"notes:Owner": ["x"] * 65}}, "values must be strings"),
    ({"context": {f"notes:k{n}": "x" for n in range(MAX_CONTEXT_KEYS + 1)}}, "at most"),
])
def test_questions_that_cannot_be_decided(change: dict[str, Any], words: str) -> None:
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(Unanswerable, match=words):
        read_question(raw, "id")


def test_a_question_with_the_keys_an_application_knows() -> None:
    context = {"aws:SourceIp": "203.0.113.7", "aws:RequestTag/team": "blue", "aws:TagKeys": ["team"],
               "notes:Owner": "alice", "aws:UserAgent": "curl"}
    q = read_question({**BASE, "context": context}, "q1")
    assert q.context == context and q.case_id == "q1" and q.principal_arn == BASE["principal"]
