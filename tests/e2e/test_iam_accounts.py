"""Several accounts in one store (made with `gatehouse account create`), end to end on PostgreSQL: every account
sees only its own entities, names are unique per account only, and an account alias is unique across accounts,
also when two accounts race for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam_support import POLICY, expect, rejected
from tests.support import ACCOUNT, MASTER_KEY
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.xdist_group("iam-accounts")]

OTHER = "210987654321"


@pytest.fixture(scope="module")
def two_accounts(pg_schema_factory: Any) -> Iterator[tuple[Endpoint, Any, Any]]:
    db = pg_schema_factory()
    args, extra = persistent_args(db_url=db)
    with running(*args, env={"GATEHOUSE_MASTER_KEY": MASTER_KEY}) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        made = subprocess.run([sys.executable, "-m", "gatehouse", "account", "create", "--db", db, "--account-id",
                               OTHER, "--json"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "GATEHOUSE_MASTER_KEY": MASTER_KEY})
        assert made.returncode == 0, made.stderr
        other = json.loads(made.stdout)
        assert other["AccountId"] == OTHER
        yield ep, ep.client("iam"), ep.client("iam", other["AccessKeyId"], other["SecretAccessKey"])


def test_each_root_is_in_its_own_account(two_accounts: tuple[Endpoint, Any, Any]) -> None:
    _, first, second = two_accounts
    assert first.get_user()["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert second.get_user()["User"]["Arn"] == f"arn:aws:iam::{OTHER}:root"


def test_entities_are_per_account(two_accounts: tuple[Endpoint, Any, Any]) -> None:
    _, first, second = two_accounts
    a = first.create_user(UserName="same-name")["User"]
    b = second.create_user(UserName="SAME-NAME")["User"]
    assert a["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/same-name"
    assert b["Arn"] == f"arn:aws:iam::{OTHER}:user/SAME-NAME"
    assert first.get_user(UserName="same-name")["User"]["UserId"] == a["UserId"]
    assert second.get_user(UserName="same-name")["User"]["UserId"] == b["UserId"]
    first.create_group(GroupName="only-in-first")
    expect("NoSuchEntity", second.get_group, GroupName="only-in-first")
    assert "only-in-first" not in [g["GroupName"] for g in second.list_groups()["Groups"]]
    arn = first.create_policy(PolicyName="first-policy", PolicyDocument=POLICY)["Policy"]["Arn"]
    rejected(second, "NoSuchEntity", second.get_policy, PolicyArn=arn)
    rejected(second, "NoSuchEntity", second.attach_user_policy, UserName="same-name", PolicyArn=arn)
    key = first.create_access_key(UserName="same-name")["AccessKey"]["AccessKeyId"]
    rejected(second, "NoSuchEntity", second.update_access_key, UserName="same-name", AccessKeyId=key,
             Status="Inactive")
    rejected(second, "AccessDenied", second.get_access_key_last_used, AccessKeyId=key)  # as for an unknown key
    assert first.get_account_summary()["SummaryMap"]["Users"] == 1
    assert second.get_account_summary()["SummaryMap"]["Users"] == 1


def test_an_alias_belongs_to_one_account(two_accounts: tuple[Endpoint, Any, Any]) -> None:
    _, first, second = two_accounts
    first.create_account_alias(AccountAlias="taken-alias")
    response = rejected(second, "EntityAlreadyExists", second.create_account_alias, AccountAlias="taken-alias")
    assert "taken-alias" in response["Error"]["Message"]
    rejected(second, "NoSuchEntity", second.delete_account_alias, AccountAlias="taken-alias")
    assert second.list_account_aliases()["AccountAliases"] == []
    first.delete_account_alias(AccountAlias="taken-alias")
    second.create_account_alias(AccountAlias="taken-alias")
    assert second.list_account_aliases()["AccountAliases"] == ["taken-alias"]
    second.delete_account_alias(AccountAlias="taken-alias")


def test_two_accounts_racing_for_one_alias(two_accounts: tuple[Endpoint, Any, Any]) -> None:
    _, first, second = two_accounts
    for round_ in range(10):
        alias = f"raced-alias-{round_}"
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(name: str, client: Any, alias: str = alias, barrier: threading.Barrier = barrier,
                  outcomes: dict[str, str] = outcomes) -> None:
            barrier.wait(30)
            try:
                client.create_account_alias(AccountAlias=alias)
                outcomes[name] = "ok"
            except ClientError as e:
                outcomes[name] = e.response["Error"]["Code"]

        threads = [threading.Thread(target=claim, args=("first", first)),
                   threading.Thread(target=claim, args=("second", second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes.values()) == ["EntityAlreadyExists", "ok"], outcomes
        winner = first if outcomes["first"] == "ok" else second
        assert winner.list_account_aliases()["AccountAliases"] == [alias]
        winner.delete_account_alias(AccountAlias=alias)
