"""Real servers for end-to-end tests: `gatehouse serve` in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support import ACCOUNT, MASTER_KEY

CLIENT_CONFIG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Endpoint:
    url: str
    key: str = "test"
    secret: str = "test"
    account: str = ACCOUNT
    log_path: str = ""
    pid: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, key: str | None = None, secret: str | None = None, *,
               token: str | None = None, region: str = "us-east-1") -> Any:
        return boto3.client(service, endpoint_url=self.url, aws_access_key_id=key or self.key,
                            aws_secret_access_key=secret or self.secret, aws_session_token=token,
                            region_name=region, config=CLIENT_CONFIG)

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def reset(self) -> None:
        req = urllib.request.Request(self.url + "/_gatehouse/reset", method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def aws(self, *args: str, key: str | None = None, secret: str | None = None) -> subprocess.CompletedProcess:
        """Run the aws CLI (the awscli package of this environment) against this endpoint."""
        env = {**os.environ, "AWS_ACCESS_KEY_ID": key or self.key, "AWS_SECRET_ACCESS_KEY": secret or self.secret,
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
        env.pop("AWS_SESSION_TOKEN", None)
        aws = shutil.which("aws", path=os.path.dirname(sys.executable)) or "aws"
        return subprocess.run([aws, "--endpoint-url", self.url, "--output", "json", *args], capture_output=True,
                              text=True, env=env, timeout=120)


@contextlib.contextmanager
def running(*args: str, env: dict[str, str] | None = None, ready_s: float = 60) -> Iterator[Endpoint]:
    """Start `python -m gatehouse serve ARGS` on a free port; stop it (and its process group) afterwards."""
    port = free_port()
    cmd = [sys.executable, "-m", "gatehouse", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    log = tempfile.NamedTemporaryFile("w+", prefix="gatehouse-test-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited early ({proc.returncode}): {' '.join(cmd)}\n{log.read()[-3000:]}")
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server not answering on {url} after {ready_s}s") from None
                time.sleep(0.1)
        yield Endpoint(url=url, log_path=log.name, pid=proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
        log.close()


def persistent_args(data_dir: str | None = None, db_url: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Flags for a non-dev server with pinned account and root key, on a data dir or a database."""
    key, secret = "AKIATESTROOT" + secrets.token_hex(4).upper(), secrets.token_urlsafe(30)[:40]
    args = ["--account-id", ACCOUNT, "--root-access-key-id", key, "--root-secret-access-key", secret]
    env: dict[str, str] = {}
    if db_url:
        args += ["--db", db_url]
        env["GATEHOUSE_MASTER_KEY"] = MASTER_KEY
    else:
        args += ["--data", data_dir or tempfile.mkdtemp(prefix="gatehouse-data-")]
    return args, {"key": key, "secret": secret, **env}


@pytest.fixture(scope="session")
def dev_server() -> Iterator[Endpoint]:
    with running("--dev") as ep:
        yield ep


@pytest.fixture
def gh(dev_server: Endpoint) -> Endpoint:
    """A development-mode server, reset to its bootstrapped state before the test."""
    dev_server.reset()
    return dev_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, pg_schema_factory: Any, tmp_path_factory: Any) -> Iterator[Endpoint]:
    """A persistent server on each storage backend (SQLite file, PostgreSQL schema): one per test module."""
    if request.param == "postgresql":
        args, extra = persistent_args(db_url=pg_schema_factory())
    else:
        args, extra = persistent_args(data_dir=str(tmp_path_factory.mktemp("data")))
    env = {"GATEHOUSE_MASTER_KEY": extra["GATEHOUSE_MASTER_KEY"]} if "GATEHOUSE_MASTER_KEY" in extra else {}
    with running(*args, env=env) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        ep.extra["backend"] = request.param
        yield ep
