"""Persistence end to end: everything survives a restart on an SQLite data directory and on PostgreSQL, keys keep
working (their secrets sealed at rest), replicas share one PostgreSQL database, and several worker processes
share one SQLite file without losing the one-success rule for concurrent creates."""

from __future__ import annotations

import base64
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.iam_support import ADMIN, POLICY, POLICY_2, READ_ONLY, TRUST, snapshot
from tests.support import MASTER_KEY
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = [pytest.mark.e2e]


def _started(args: list[str], extra: dict[str, str], env: dict[str, str] | None = None) -> Any:
    env = env if env is not None else (
        {"GATEHOUSE_MASTER_KEY": extra["GATEHOUSE_MASTER_KEY"]} if "GATEHOUSE_MASTER_KEY" in extra else {})
    return running(*args, env=env)


def _login(ep: Endpoint, extra: dict[str, str]) -> Endpoint:
    ep.key, ep.secret = extra["key"], extra["secret"]
    return ep


def _populate(iam: Any) -> dict[str, str]:
    iam.create_user(UserName="kept", Path="/p/", Tags=[{"Key": "a", "Value": "b"}], PermissionsBoundary=READ_ONLY)
    key = iam.create_access_key(UserName="kept")["AccessKey"]
    iam.update_access_key(UserName="kept", AccessKeyId=iam.create_access_key(UserName="kept")["AccessKey"][
        "AccessKeyId"], Status="Inactive")
    iam.create_group(GroupName="crew")
    iam.add_user_to_group(GroupName="crew", UserName="kept")
    arn = iam.create_policy(PolicyName="pol", PolicyDocument=POLICY, Tags=[{"Key": "t", "Value": "1"}])["Policy"][
        "Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY_2, SetAsDefault=True)
    iam.attach_group_policy(GroupName="crew", PolicyArn=arn)
    iam.put_user_policy(UserName="kept", PolicyName="inline", PolicyDocument=POLICY)
    iam.create_role(RoleName="role", AssumeRolePolicyDocument=TRUST, Description="kept role",
                    MaxSessionDuration=7200)
    iam.attach_role_policy(RoleName="role", PolicyArn=ADMIN)
    iam.create_instance_profile(InstanceProfileName="ip", Tags=[{"Key": "x", "Value": "y"}])
    iam.add_role_to_instance_profile(InstanceProfileName="ip", RoleName="role")
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    iam.create_account_alias(AccountAlias="persisted")
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def _files_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_sqlite_data_dir_survives_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args, extra = persistent_args(data_dir=str(data))
    with _started(args, extra) as ep:
        iam = _login(ep, extra).client("iam")
        key = _populate(iam)
        before = snapshot(iam)
        assert ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"].endswith(
            ":user/p/kept")
    with _started(args, extra) as ep:
        iam = _login(ep, extra).client("iam")
        assert snapshot(iam) == before
        assert ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"].endswith(
            ":user/p/kept")
        used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
        assert used["ServiceName"] == "sts"
    master = data / "master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    blob = _files_bytes(data)
    assert key["SecretAccessKey"].encode() not in blob and extra["secret"].encode() not in blob
    assert base64.b64decode(master.read_text().strip()) not in blob.replace(master.read_bytes(), b"")


@pytest.mark.postgres
def test_postgresql_survives_restart_and_serves_replicas(pg_schema_factory: Any) -> None:
    args, extra = persistent_args(db_url=pg_schema_factory())
    with _started(args, extra) as first:
        iam = _login(first, extra).client("iam")
        key = _populate(iam)
        before = snapshot(iam)
        with _started(args, extra) as second:  # a replica on the same database
            other = _login(second, extra).client("iam")
            assert snapshot(other) == before
            other.create_user(UserName="from-replica")
            assert iam.get_user(UserName="from-replica")["User"]["UserName"] == "from-replica"
            sts = second.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
            assert sts.get_caller_identity()["Arn"].endswith(":user/p/kept")
            outcomes = _race(6, [first.client("iam") if i % 2 else second.client("iam") for i in range(6)],
                             lambda c: c.create_role(RoleName="contended", AssumeRolePolicyDocument=TRUST))
            assert outcomes.count("ok") == 1 and outcomes.count("EntityAlreadyExists") == 5, outcomes
        before = snapshot(iam)
    with _started(args, extra) as again:
        iam = _login(again, extra).client("iam")
        assert snapshot(iam) == before
        assert again.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()


@pytest.mark.postgres
def test_postgresql_with_another_master_key(pg_schema_factory: Any) -> None:
    """A replica given another master key than the store's refuses to start (the key check value differs) instead
    of serving with keys it cannot open; nothing in the store changes."""
    args, extra = persistent_args(db_url=pg_schema_factory())
    with _started(args, extra) as ep:
        iam = _login(ep, extra).client("iam")
        iam.create_user(UserName="u")
        key = iam.create_access_key(UserName="u")["AccessKey"]
    other_key = base64.b64encode(os.urandom(32)).decode()
    assert other_key != MASTER_KEY
    with pytest.raises(RuntimeError, match="exited early") as info, \
            _started(args, extra, env={"GATEHOUSE_MASTER_KEY": other_key}):
        pass
    assert "master key is not the one" in str(info.value)
    with _started(args, extra) as ep:
        sts = ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        assert sts.get_caller_identity()["Arn"].endswith(":user/u")


@pytest.mark.postgres
def test_postgresql_needs_a_master_key(pg_schema_factory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    args, _ = persistent_args(db_url=pg_schema_factory())
    monkeypatch.delenv("GATEHOUSE_MASTER_KEY", raising=False)
    with pytest.raises(RuntimeError, match="exited early") as info, running(*args, ready_s=30):
        pass
    assert "master key" in str(info.value)


def test_sqlite_with_several_workers(tmp_path: Path) -> None:
    args, extra = persistent_args(data_dir=str(tmp_path / "data"))
    with _started([*args, "--workers", "2"], extra) as ep:
        _login(ep, extra)
        clients = [ep.client("iam") for _ in range(8)]
        outcomes = _race(8, clients, lambda c: c.create_user(UserName="one-of-many"))
        assert outcomes.count("ok") == 1 and outcomes.count("EntityAlreadyExists") == 7, outcomes
        outcomes = _race(8, clients, lambda c: c.create_group(GroupName=f"g-{id(c)}"))
        assert outcomes == ["ok"] * 8
        assert len(ep.client("iam").list_groups()["Groups"]) == 8


def _race(n: int, clients: list[Any], action: Callable[[Any], Any]) -> list[str]:
    barrier = threading.Barrier(n)
    out: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(30)
        try:
            action(clients[i])
            result = "ok"
        except ClientError as e:
            result = e.response["Error"]["Code"]
        with lock:
            out.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out
