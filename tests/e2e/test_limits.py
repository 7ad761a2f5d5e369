"""One caller cannot stall, throttle or hold the server for the others (issue 16), against a real server process:
the simulator's heavy request beside another account's ListUsers, AWS's Throttling per access key, and
connections that send nothing or trickle their headers. Every loop is bounded in count and time."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    data = str(tmp_path_factory.mktemp("limits"))
    args, env = persistent_args(data_dir=data)
    with running(*args, "--header-timeout", "1", "--keep-alive-timeout", "1", env=env) as ep:
        ep.key, ep.secret = env["key"], env["secret"]
        ep.extra["data"] = data
        yield ep


def other_account(server: Endpoint) -> Any:
    """Another account's root client (the CLI adds it to the server's own data directory)."""
    out = subprocess.run([sys.executable, "-m", "gatehouse", "account", "create", "--data", server.extra["data"],
                          "--json"], capture_output=True, text=True, timeout=120, check=True).stdout
    found = json.loads(out[out.index("{"):])
    return server.client("iam", found["AccessKeyId"], found["SecretAccessKey"])


def reader(server: Endpoint, name: str) -> Any:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p",
                        PolicyDocument=doc({"Effect": "Allow", "Action": "iam:Simulate*", "Resource": "*"}))
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", made["AccessKeyId"], made["SecretAccessKey"])


def heavy_policy() -> str:
    """The acceptance's 57 KB policy: 50 statements, each 40 StringLike and 40 ForAnyValue:StringLike values."""
    return doc(*[{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
        "StringLike": {"aws:PrincipalTag/x": [f"*a*b*{i}-{j}*" for j in range(40)]},
        "ForAnyValue:StringLike": {"aws:TagKeys": [f"*k*{i}-{j}*" for j in range(40)]}}} for i in range(50)])


CONTEXT = [{"ContextKeyName": "aws:PrincipalTag/x", "ContextKeyValues": ["ab" * 500], "ContextKeyType": "string"},
           {"ContextKeyName": "aws:TagKeys", "ContextKeyValues": ["k" * 100 + str(i) for i in range(50)],
            "ContextKeyType": "stringList"}]


def simulate(client: Any, copies: int) -> Any:
    return client.simulate_custom_policy(
        PolicyInputList=[heavy_policy()] * copies, ActionNames=[f"iam:GetUser{i}" for i in range(40)],
        ResourceArns=[f"arn:aws:iam::{ACCOUNT}:user/u{i}" for i in range(25)], MaxItems=1000,
        ContextEntries=CONTEXT)


def test_a_heavy_simulation_leaves_another_accounts_list_users_answered_within_a_second(server: Endpoint) -> None:
    heavy, other = reader(server, "heavy-reader"), other_account(server)
    other.list_users()
    done, outcome = threading.Event(), {}

    def run() -> None:
        try:
            outcome["pages"] = len(simulate(heavy, 4)["EvaluationResults"])
        except ClientError as e:
            outcome["error"] = code(e)
        finally:
            done.set()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    slowest, calls, deadline = 0.0, 0, time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        start = time.monotonic()
        other.list_users()
        slowest, calls = max(slowest, time.monotonic() - start), calls + 1
        time.sleep(0.05)
    worker.join(5)
    assert done.is_set()
    assert slowest < 1.0, f"another account's ListUsers took {slowest:.2f} s during the simulation ({calls} calls)"


def test_a_simulation_past_the_budget_is_refused_with_invalid_input(server: Endpoint) -> None:
    heavy = reader(server, "too-heavy")
    start = time.monotonic()
    with pytest.raises(ClientError) as e:
        simulate(heavy, 12)
    assert code(e.value) == "InvalidInput" and "too large" in e.value.response["Error"]["Message"]
    assert time.monotonic() - start < 10
    # Fewer policies fit.
    page = heavy.simulate_custom_policy(PolicyInputList=[heavy_policy()] * 2, ActionNames=["iam:GetUser"],
                                        MaxItems=10, ContextEntries=CONTEXT)
    assert len(page["EvaluationResults"]) == 1


def test_one_key_over_its_rate_is_throttled_and_others_are_not(tmp_path: Any) -> None:
    args, env = persistent_args(data_dir=str(tmp_path))
    with running(*args, "--throttle-per-key", "5", env=env) as server:  # 5 a second, bursts of 10
        server.key, server.secret = env["key"], env["secret"]
        iam = server.client("iam")
        iam.create_user(UserName="busy")
        made = iam.create_access_key(UserName="busy")["AccessKey"]
        busy = server.client("sts", made["AccessKeyId"], made["SecretAccessKey"])
        iam.create_user(UserName="calm")
        other = iam.create_access_key(UserName="calm")["AccessKey"]
        calm = server.client("sts", other["AccessKeyId"], other["SecretAccessKey"])
        throttled = None
        for _ in range(200):  # far past 10 + 5/s at any speed this machine can send them
            try:
                busy.get_caller_identity()
            except ClientError as e:
                throttled = e
                break
        assert throttled is not None
        error = throttled.response["Error"]
        assert (error["Code"], error["Message"], error.get("Type")) == ("Throttling", "Rate exceeded", "Sender")
        assert throttled.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        calm.get_caller_identity()  # another key (its own full burst) is not held back


def open_socket(server: Endpoint) -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def closed(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1024) == b"" or closed(sock)
    except TimeoutError:
        return False
    except OSError:
        return True


def test_idle_and_trickling_connections_are_closed(server: Endpoint) -> None:
    idle = [open_socket(server) for _ in range(3)]
    trickling = [open_socket(server) for _ in range(2)]
    for sock in trickling:
        sock.sendall(b"POST / HTTP/1.1\r\n")
    deadline = time.monotonic() + 6
    header = b"Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaa"
    sent = 0
    while time.monotonic() < deadline and not all(closed(s) for s in idle + trickling):
        for sock in trickling:
            try:
                sock.sendall(header[sent:sent + 1])
            except OSError:
                pass
        sent += 1
        time.sleep(0.3)
    still = [s for s in idle + trickling if not closed(s)]
    for sock in idle + trickling:
        sock.close()
    assert not still, f"{len(still)} of 5 connections still open after 6 s (header timeout 1 s)"
    server.client("iam").list_users()  # the server itself still answers
