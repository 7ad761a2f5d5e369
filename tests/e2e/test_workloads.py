"""Workloads end to end, against a real server on SQLite and on PostgreSQL (issue 14's "Done when"): a role with a
policy in an instance profile, a workload registered with `gatehouse workload register`, and separate Python
processes that hold no key at all (no AWS_ACCESS_KEY_ID, no shared files): boto3 finds the role's session by itself
through the container credentials endpoint, and through `gatehouse workload serve-metadata` (IMDSv2). Revoking the
workload makes the next refresh fail and its session credentials stop; a wrong or missing token gets nothing; a GET
without an IMDSv2 session token is refused."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import ContainerProvider
from botocore.exceptions import ClientError, CredentialRetrievalError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, free_port

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})

CHILD = r"""
import boto3, json, sys
out = {}
try:
    session = boto3.Session()
    out["provider"] = session.get_credentials().method
    out["arn"] = session.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Arn"]
    iam = session.client("iam", endpoint_url=sys.argv[1])
    iam.list_roles()
    out["allowed"] = True
    try:
        iam.create_user(UserName="from-workload")
        out["denied"] = False
    except Exception as e:
        out["denied"] = "AccessDenied" in str(e)
except Exception as e:
    out["error"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
"""


def keyless_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", **extra}


def child(url: str, **env: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD, url], capture_output=True, text=True, timeout=60,
                          env=keyless_env(**env))
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"error": done.stderr[-500:]}


def cli(ep: Endpoint, *args: str) -> subprocess.CompletedProcess[str]:
    env = keyless_env(AWS_ACCESS_KEY_ID=ep.key, AWS_SECRET_ACCESS_KEY=ep.secret)
    return subprocess.run([sys.executable, "-m", "gatehouse", "workload", *args, "--endpoint-url", ep.url],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture(scope="module")
def world(backend: Endpoint) -> Endpoint:
    iam = backend.client("iam")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="app", PolicyName="list", PolicyDocument=ROLE_POLICY)
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    return backend


def register(ep: Endpoint, name: str, *extra: str) -> dict[str, str]:
    done = cli(ep, "register", "--instance-profile", "app-profile", "--name", name, "--output", "json", *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    out: dict[str, str] = json.loads(done.stdout)
    assert set(out) == {"WorkloadId", "Token", "CredentialsUri"}
    return out


def fetch(uri: str, token: str | None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(uri, headers={"Authorization": token} if token is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_a_keyless_process_gets_the_workloads_role_session(world: Endpoint) -> None:
    reg = register(world, "web-1")
    assert reg["CredentialsUri"].startswith(world.url)
    got = child(world.url, AWS_CONTAINER_CREDENTIALS_FULL_URI=reg["CredentialsUri"],
                AWS_CONTAINER_AUTHORIZATION_TOKEN=reg["Token"])
    assert got.get("provider") == "container-role", got
    assert got.get("arn") == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/web-1", got
    assert got.get("allowed") is True and got.get("denied") is True, got


def test_the_token_can_come_from_a_file(world: Endpoint, tmp_path: Any) -> None:
    reg = register(world, "web-file")
    path = tmp_path / "token"
    path.write_text(reg["Token"])
    got = child(world.url, AWS_CONTAINER_CREDENTIALS_FULL_URI=reg["CredentialsUri"],
                AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(path))
    assert got.get("arn") == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/web-file", got


def test_wrong_or_missing_tokens_get_nothing(world: Endpoint) -> None:
    reg = register(world, "web-2")
    got = child(world.url, AWS_CONTAINER_CREDENTIALS_FULL_URI=reg["CredentialsUri"],
                AWS_CONTAINER_AUTHORIZATION_TOKEN="not-the-token")
    assert "error" in got and "arn" not in got, got
    for token in (None, "", reg["Token"] + "x"):
        status, body = fetch(reg["CredentialsUri"], token)
        assert status == 401 and "AccessKeyId" not in body, (token, status, body)


def test_list_tag_untag_and_never_the_token(world: Endpoint) -> None:
    reg = register(world, "web-3", "--tag", "team=data", "--ttl", "900")
    assert cli(world, "tag", "web-3", "env=prod").returncode == 0
    assert cli(world, "untag", "web-3", "team").returncode == 0
    listed = cli(world, "list", "--output", "json")
    assert listed.returncode == 0 and reg["Token"] not in listed.stdout
    mine = [w for w in json.loads(listed.stdout) if w["WorkloadId"] == "web-3"]
    assert mine and mine[0]["Tags"] == [{"Key": "env", "Value": "prod"}] and mine[0]["TtlSeconds"] == 900
    got = cli(world, "get", "web-3", "--output", "json")
    assert got.returncode == 0 and json.loads(got.stdout)["RoleName"] == "app" and reg["Token"] not in got.stdout
    assert cli(world, "get", "web-3").returncode == 0
    table = cli(world, "list")
    assert table.returncode == 0 and "web-3" in table.stdout and reg["Token"] not in table.stdout
    assert cli(world, "revoke", "no-such-workload").returncode == 1


def test_revoking_fails_the_next_refresh_and_stops_the_session(world: Endpoint) -> None:
    reg = register(world, "web-4")
    environ = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": reg["CredentialsUri"],
               "AWS_CONTAINER_AUTHORIZATION_TOKEN": reg["Token"]}
    loaded = ContainerProvider(environ=environ).load()  # what botocore does at start and on every refresh
    assert loaded is not None
    creds = loaded.get_frozen_credentials()
    sts = world.client("sts", creds.access_key, creds.secret_key, token=creds.token)
    assert sts.get_caller_identity()["Arn"].endswith("assumed-role/app/web-4")
    done = cli(world, "revoke", "web-4")
    assert done.returncode == 0, done.stderr
    with pytest.raises(CredentialRetrievalError):
        ContainerProvider(environ=environ).load()
    with pytest.raises(ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


@contextlib.contextmanager
def metadata_listener(ep: Endpoint, workload_id: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gatehouse", "workload", "serve-metadata", workload_id, "--port",
                             str(port), "--endpoint-url", ep.url],
                            env=keyless_env(AWS_ACCESS_KEY_ID=ep.key, AWS_SECRET_ACCESS_KEY=ep.secret),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            assert time.monotonic() < deadline, "the metadata listener did not open"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_the_imdsv2_listener_serves_the_session_only_with_a_token(world: Endpoint) -> None:
    register(world, "batch-1")
    with metadata_listener(world, "batch-1") as imds:
        path = imds + "/latest/meta-data/iam/security-credentials/"
        with pytest.raises(urllib.error.HTTPError) as v1:
            urllib.request.urlopen(path, timeout=5)
        assert v1.value.code == 401
        got = child(world.url, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds, AWS_EC2_METADATA_DISABLED="false")
        assert got.get("provider") == "iam-role", got
        assert got.get("arn") == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/batch-1", got
        assert got.get("allowed") is True and got.get("denied") is True, got


def test_the_listener_refuses_to_start_for_an_unknown_workload(world: Endpoint) -> None:
    done = subprocess.run([sys.executable, "-m", "gatehouse", "workload", "serve-metadata", "nobody-here", "--port",
                           str(free_port()), "--endpoint-url", world.url], capture_output=True, text=True, timeout=60,
                          env=keyless_env(AWS_ACCESS_KEY_ID=world.key, AWS_SECRET_ACCESS_KEY=world.secret))
    assert done.returncode == 1 and "NoSuchEntity" in done.stderr, done.stderr
