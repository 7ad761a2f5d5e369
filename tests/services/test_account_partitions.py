"""An account's partition is chosen when the account is made and never changes (in-process, SQLite in memory)."""

from __future__ import annotations

import pytest

from gatehouse.app import build
from gatehouse.errors import SignatureDoesNotMatch
from gatehouse.model import RequestMeta
from gatehouse.services.bootstrap import PartitionMismatch, bootstrap, create_account
from gatehouse.settings import Settings, SettingsError


def test_the_bootstrap_account_takes_the_partition_it_is_given() -> None:
    app = build(Settings(dev=True, partition="aws-us-gov"))
    result = app.bootstrap()
    with app.store.read(result.account_id) as tx:
        account = tx.accounts.get(result.account_id)
    assert account is not None and account.partition == "aws-us-gov"
    # Asking again for the same partition is idempotent; another partition is refused, for good.
    assert bootstrap(app.store, app.box, app.clock, partition="aws-us-gov").account_id == result.account_id
    with pytest.raises(PartitionMismatch, match="cannot change"):
        bootstrap(app.store, app.box, app.clock, partition="aws")
    app.close()


def test_accounts_default_to_aws_and_unknown_partitions_are_refused() -> None:
    app = build(Settings(dev=True))
    app.bootstrap()
    made = create_account(app.store, app.box, app.clock, "210987654321", "aws-cn")
    with app.store.read(made.account_id) as tx:
        account = tx.accounts.get(made.account_id)
    assert account is not None and account.partition == "aws-cn"
    with app.store.read("123456789012") as tx:
        dev = tx.accounts.get("123456789012")
    assert dev is not None and dev.partition == "aws"
    with pytest.raises(ValueError, match="unknown partition"):
        create_account(app.store, app.box, app.clock, "310987654321", "aws-moon")
    with pytest.raises(SettingsError, match="--partition"):
        build(Settings(dev=True, partition="aws-moon"))
    app.close()


@pytest.mark.parametrize(("region", "refused"), [
    ("cn-north-1", False), ("cn-northwest-1", False), ("us-east-1", True), ("us-gov-west-1", True),
    ("eu-isoe-west-1", True)])
def test_the_caller_is_in_the_accounts_partition_whatever_the_signing_region(region: str, refused: bool) -> None:
    app = build(Settings(dev=True, partition="aws-cn"))
    app.bootstrap()
    authenticator = app.asgi.endpoint.authenticator  # type: ignore[union-attr]
    credential = authenticator.resolve("test")
    meta = RequestMeta(request_id="r", region=region)
    if refused:
        with pytest.raises(SignatureDoesNotMatch):
            authenticator.caller(credential, meta)
    else:
        caller = authenticator.caller(credential, meta)
        assert caller.partition == "aws-cn" and caller.arn == "arn:aws-cn:iam::123456789012:root"
    app.close()
