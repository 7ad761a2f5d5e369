"""CreateAccountAlias when two accounts claim one alias at the same moment (PostgreSQL, where writers of
different accounts run concurrently): one wins, the other gets EntityAlreadyExists, never a server fault."""

from __future__ import annotations

import datetime as dt
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from gatehouse.errors import AwsError
from gatehouse.model import Account, Caller, PrincipalKind, RequestMeta
from gatehouse.services.iam.account import AccountOps
from gatehouse.services.iam.common import IamDeps
from gatehouse.storage.sql.others import SqlAccounts
from gatehouse.storage.sql.store import SqlStore

pytestmark = pytest.mark.postgres

A, B = "111111111111", "222222222222"


class _AllowAll:
    def require(self, *args: Any, **kwargs: Any) -> None:
        return None


def _root(account: str) -> Caller:
    return Caller(account_id=account, kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{account}:root", user_id=account,
                  name="root", access_key_id="AKIAEXAMPLEEXAMPLE00", request=RequestMeta(request_id="r"))


def test_racing_accounts_get_one_alias_and_one_entity_already_exists(pg_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqlStore(pg_url)
    try:
        for account in (A, B):
            store.create_account(Account(account_id=account, created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)))
        # Both requests look the alias up before either claims it.
        barrier = threading.Barrier(2)
        original = SqlAccounts.by_alias

        def looked_up_together(self: SqlAccounts, alias: str) -> Any:
            found = original(self, alias)
            barrier.wait(10)
            return found

        monkeypatch.setattr(SqlAccounts, "by_alias", looked_up_together)
        deps: Any = SimpleNamespace(store=store, authz=_AllowAll())
        ops = AccountOps(IamDeps(**{f: getattr(deps, f, None) for f in IamDeps.__dataclass_fields__}))
        outcomes: dict[str, str] = {}

        def claim(account: str) -> None:
            try:
                ops.create_account_alias(_root(account), "contested")
                outcomes[account] = "ok"
            except AwsError as e:
                outcomes[account] = e.code
            except Exception as e:  # anything else would reach the client as InternalFailure
                outcomes[account] = f"unexpected {type(e).__name__}"

        threads = [threading.Thread(target=claim, args=(a,)) for a in (A, B)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes.values()) == ["EntityAlreadyExists", "ok"], outcomes
        winner = A if outcomes[A] == "ok" else B
        with store.read(winner) as tx:
            account = tx.accounts.get(winner)
            assert account is not None and account.alias == "contested"
    finally:
        store.close()
