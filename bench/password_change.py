"""ChangePassword's cost to everyone else: how long it holds the write lock, and another account's write latency
while 10 ChangePassword calls run at once (issue 16, item 3). Bounded: 10 users, one round each.

    .venv/bin/python bench/password_change.py [--remembered 24] [--users 10]

Part 1 runs the application in this process (SQLite file) and times every write transaction a ChangePassword
opens. Part 2 starts `gatehouse serve` on a fresh data directory, makes a second account, and measures that
account's CreateUser latency alone and then during 10 concurrent ChangePassword calls of the first account's users
(each with `--remembered` passwords in its history, all checked). Run it with another checkout's interpreter
(PYTHONPATH=OTHER/src) to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import build
from gatehouse.settings import Settings
from gatehouse.storage.sql.store import SqlStore

OLD, NEW = "Bench-Old-Password-1!", "Bench-New-Password-2!"


def _remember(url: str, account_id: str, names: list[str], count: int) -> None:
    """`count` remembered passwords per user, written straight to the store (one hash made once: hashing 240
    passwords through the API would take minutes and measure nothing)."""
    from argon2 import PasswordHasher
    hashed = PasswordHasher().hash("Bench-Remembered-0!")
    store = SqlStore(url, migrate=False)
    try:
        with store.write(account_id) as tx:
            for name in names:
                user = tx.users.get(name)
                assert user is not None
                for _ in range(count):
                    tx.logins.remember(user.user_id, dt.datetime.now(dt.UTC), hashed, 24)
    finally:
        store.close()


def _signed(key: str, secret: str, body: str) -> tuple[Headers, bytes]:
    request = AWSRequest(method="POST", url="http://127.0.0.1:4599/", data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "iam", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:4599"
    return Headers(headers=headers), body.encode()


def lock_hold(remembered: int) -> dict[str, float]:
    """Part 1: the write transactions one ChangePassword opens, and how long each holds the lock."""
    with tempfile.TemporaryDirectory() as tmp:
        app = build(Settings(data_dir=Path(tmp) / "data"))
        boot = app.bootstrap()
        assert app.asgi is not None and boot.secret_access_key and boot.access_key_id
        endpoint = app.asgi.endpoint
        root = (boot.access_key_id, boot.secret_access_key)

        def call(keys: tuple[str, str], action: str, **params: str) -> bytes:
            headers, body = _signed(*keys, urlencode({"Action": action, "Version": "2010-05-08", **params}))
            status, payload = endpoint.handle("POST", "/", "", headers, body, "127.0.0.1", False)
            assert status < 500, payload
            return payload

        call(root, "UpdateAccountPasswordPolicy", AllowUsersToChangePassword="true",
             PasswordReusePrevention=str(max(remembered, 1)))
        call(root, "CreateUser", UserName="walker")
        call(root, "CreateLoginProfile", UserName="walker", Password=OLD)
        made = call(root, "CreateAccessKey", UserName="walker").decode()
        user_keys = (made.split("<AccessKeyId>")[1].split("<")[0], made.split("<SecretAccessKey>")[1].split("<")[0])
        _remember(app.settings.store_url, boot.account_id, ["walker"], remembered)
        holds: list[float] = []
        real_write = app.store.write

        @contextlib.contextmanager
        def timed(account_id: str) -> Iterator[Any]:
            with real_write(account_id) as tx:
                start = time.perf_counter()
                try:
                    yield tx
                finally:
                    holds.append(time.perf_counter() - start)

        app.store.write = timed  # type: ignore[method-assign]
        start = time.perf_counter()
        call(user_keys, "ChangePassword", OldPassword=OLD, NewPassword=NEW)
        total = time.perf_counter() - start
        app.close()
    return {"change_s": round(total, 3), "write_transactions": len(holds),
            "lock_held_s": round(sum(holds), 4), "longest_hold_s": round(max(holds), 4)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def concurrent(users: int, remembered: int) -> dict[str, Any]:
    """Part 2: another account's CreateUser latency, alone and during `users` concurrent ChangePassword calls."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        gh = [sys.executable, "-m", "gatehouse"]
        subprocess.run([*gh, "init", "--data", str(data)], check=True, capture_output=True, timeout=120)
        root = json.loads((data / "root-credentials.json").read_text())
        other = json.loads(subprocess.run([*gh, "account", "create", "--data", str(data), "--json"], check=True,
                                          capture_output=True, text=True, timeout=120).stdout)
        port = _free_port()
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen([*gh, "serve", "--data", str(data), "--port", str(port)], stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        config = Config(retries={"max_attempts": 1}, read_timeout=600, max_pool_connections=32)

        def iam(key: str, secret: str) -> Any:
            return boto3.client("iam", endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret,
                                region_name="us-east-1", config=config)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            admin = iam(root["AccessKeyId"], root["SecretAccessKey"])
            admin.update_account_password_policy(AllowUsersToChangePassword=True,
                                                 PasswordReusePrevention=max(remembered, 1))
            names = [f"walker-{i}" for i in range(users)]
            walkers = []
            for name in names:
                admin.create_user(UserName=name)
                admin.create_login_profile(UserName=name, Password=OLD)
                k = admin.create_access_key(UserName=name)["AccessKey"]
                walkers.append(iam(k["AccessKeyId"], k["SecretAccessKey"]))
            _remember(f"sqlite+pysqlite:///{(data / 'gatehouse.db').resolve()}", root["AccountId"], names,
                      remembered)
            neighbour = iam(other["AccessKeyId"], other["SecretAccessKey"])

            def write_latency(tag: str, until: threading.Event | None, count: int = 20) -> list[float]:
                out: list[float] = []
                i = 0
                while (until is None and i < count) or (until is not None and not until.is_set()):
                    start = time.perf_counter()
                    neighbour.create_user(UserName=f"n-{tag}-{i}")
                    out.append(time.perf_counter() - start)
                    i += 1
                    time.sleep(0.05)
                return out

            alone = write_latency("alone", None)
            done = threading.Event()
            finished: list[float] = []

            def change(client: Any) -> None:
                start = time.perf_counter()
                client.change_password(OldPassword=OLD, NewPassword=NEW)
                finished.append(time.perf_counter() - start)

            threads = [threading.Thread(target=change, args=(w,)) for w in walkers]
            start = time.perf_counter()
            for t in threads:
                t.start()

            def waiter() -> None:
                for t in threads:
                    t.join()
                done.set()
            threading.Thread(target=waiter).start()
            during = write_latency("during", done)
            wall = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(30)
            log.close()

    def summary(xs: list[float]) -> dict[str, float]:
        xs = sorted(xs)
        return {"n": len(xs), "p50_ms": round(statistics.median(xs) * 1000, 1),
                "p99_ms": round(xs[min(len(xs) - 1, int(len(xs) * 0.99))] * 1000, 1),
                "max_ms": round(xs[-1] * 1000, 1)}
    return {"other_account_create_user_alone": summary(alone),
            "other_account_create_user_during": summary(during),
            "change_password_calls": len(finished), "all_changes_wall_s": round(wall, 1),
            "slowest_change_s": round(max(finished), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--remembered", type=int, default=24)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--part", choices=["lock", "concurrent", "both"], default="both")
    args = parser.parse_args()
    out: dict[str, Any] = {"source": os.path.dirname(os.path.dirname(__import__("gatehouse").__file__)),
                           "remembered": args.remembered}
    if args.part in ("lock", "both"):
        out["lock"] = lock_hold(args.remembered)
    if args.part in ("concurrent", "both"):
        out["concurrent"] = concurrent(args.users, args.remembered)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
