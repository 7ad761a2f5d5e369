"""The IMDSv2-compatible listener (wire/instance_metadata.py): a token first (PUT with a TTL of 1..21600 seconds,
never through a proxy), then the role's name and credentials only with a valid, unexpired token; and botocore's own
IMDS credential fetcher finds the credentials through it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from botocore.utils import InstanceMetadataFetcher
from starlette.applications import Starlette

from gatehouse.wire.instance_metadata import MetadataTokens, RoleCredentials, metadata_app
from tests.support.servers import free_port

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
CREDS = RoleCredentials(role_name="app", access_key_id="ASIAEXAMPLE", secret_access_key="secret", token="GHSTtoken",
                        expiration=NOW + dt.timedelta(hours=1), last_updated=NOW)
PATH = "/latest/meta-data/iam/security-credentials/"


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Client:
    """HTTP to a listener served by uvicorn on a free loopback port."""

    def __init__(self, url: str) -> None:
        self.url = url

    def put(self, path: str, headers: dict[str, str]) -> requests.Response:
        return requests.put(self.url + path, headers=headers, timeout=5)

    def get(self, path: str, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.get(self.url + path, headers=headers or {}, timeout=5)


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[Client]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    try:
        yield Client(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def imds() -> Iterator[tuple[Client, Clock]]:
    clock = Clock()
    with serving(metadata_app(lambda: CREDS, MetadataTokens(clock))) as client:
        yield client, clock


def token(client: Client, ttl: str = "60") -> str:
    answer = client.put("/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    assert answer.status_code == 200 and answer.headers["x-aws-ec2-metadata-token-ttl-seconds"] == ttl
    return answer.text


def test_tokens_need_a_ttl_in_range_and_no_proxy(imds: tuple[Client, Clock]) -> None:
    client, _ = imds
    for bad in (None, "", "0", "21601", "-5", "abc", "1" * 20):
        headers = {} if bad is None else {"X-aws-ec2-metadata-token-ttl-seconds": bad}
        assert client.put("/latest/api/token", headers=headers).status_code == 400, bad
    assert token(client, "1") and token(client, "21600")
    proxied = client.put("/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                                       "X-Forwarded-For": "10.0.0.9"})
    assert proxied.status_code == 403


def test_credentials_only_with_a_valid_unexpired_token(imds: tuple[Client, Clock]) -> None:
    client, clock = imds
    assert client.get(PATH).status_code == 401  # IMDSv1: refused
    assert client.get(PATH + "app").status_code == 401
    assert client.get(PATH, headers={"X-aws-ec2-metadata-token": "999999999999.forged"}).status_code == 401
    good = token(client, "60")
    expiry, mac = good.split(".")
    assert client.get(PATH, headers={"X-aws-ec2-metadata-token": f"{int(expiry) + 100}.{mac}"}).status_code == 401
    listed = client.get(PATH, headers={"X-aws-ec2-metadata-token": good})
    assert listed.status_code == 200 and listed.text == "app"
    body = json.loads(client.get(PATH + "app", headers={"X-aws-ec2-metadata-token": good}).text)
    assert body == {"Code": "Success", "LastUpdated": "2026-12-06T09:00:00Z", "Type": "AWS-HMAC",
                    "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret", "Token": "GHSTtoken",
                    "Expiration": "2026-12-06T10:00:00Z"}
    assert client.get(PATH + "other", headers={"X-aws-ec2-metadata-token": good}).status_code == 404
    assert client.get("/latest/meta-data/ami-id", headers={"X-aws-ec2-metadata-token": good}).status_code == 404
    clock.now += 61
    assert client.get(PATH, headers={"X-aws-ec2-metadata-token": good}).status_code == 401


def test_no_credentials_is_not_found() -> None:
    with serving(metadata_app(lambda: None)) as client:
        assert client.get(PATH, headers={"X-aws-ec2-metadata-token": token(client)}).status_code == 404


def test_botocores_imds_fetcher_reads_it() -> None:
    later = RoleCredentials(role_name="app", access_key_id="ASIAEXAMPLE", secret_access_key="secret",
                            token="GHSTtoken", expiration=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
                            last_updated=dt.datetime.now(dt.UTC))
    with serving(metadata_app(lambda: later)) as client:
        fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=1, config={
            "ec2_metadata_service_endpoint": client.url, "ec2_metadata_v1_disabled": True})
        found = fetcher.retrieve_iam_role_credentials()
    assert found["role_name"] == "app" and found["access_key"] == "ASIAEXAMPLE" and found["token"] == "GHSTtoken"
