"""The address and transport are what the server sees: forwarding headers (X-Forwarded-For, X-Forwarded-Proto,
Forwarded, X-Real-IP) change nothing unless they come from a proxy the operator names with --forwarded-allow-ips;
from such a proxy the forwarded address is the caller's for aws:SourceIp, aws:SecureTransport and the per-address
sign-in limit. Both ways, over real connections (uvicorn applies the headers, the application reads none)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from gatehouse.cli.serve import _proxy_options
from gatehouse.settings import Settings, SettingsError
from tests.support import ACCOUNT
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e

CONDITIONED = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
LIMITS = ("--signin-rate-per-address", "2", "--signin-rate-per-user", "100")


@pytest.fixture(scope="module")
def untrusted() -> Iterator[Endpoint]:
    with running("--dev", *LIMITS) as ep:
        yield ep


@pytest.fixture(scope="module")
def behind_proxy() -> Iterator[Endpoint]:
    """A server that believes the forwarding headers of a proxy on 127.0.0.1 (the test client stands for it)."""
    with running("--dev", "--forwarded-allow-ips", "127.0.0.1", *LIMITS) as ep:
        yield ep


def conditioned_user(server: Endpoint, headers: dict[str, str]) -> Any:
    server.reset()
    iam = server.client("iam")
    iam.create_user(UserName="remote")
    iam.put_user_policy(UserName="remote", PolicyName="p", PolicyDocument=CONDITIONED)
    key = iam.create_access_key(UserName="remote")["AccessKey"]
    client = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])

    def add(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value
    client.meta.events.register("before-sign", add)
    return client


def allowed(call: Any) -> bool:
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied"
        return False
    return True


SPOOF = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Forwarded": "for=203.0.113.9;proto=https",
         "X-Real-IP": "203.0.113.9"}


def test_an_untrusted_peer_changes_neither_address_nor_transport(untrusted: Endpoint) -> None:
    client = conditioned_user(untrusted, SPOOF)
    assert not allowed(client.list_users), "aws:SourceIp must be the connection's address (127.0.0.1)"
    assert not allowed(client.list_groups), "aws:SecureTransport must be false over plain HTTP"


def test_a_trusted_proxy_forwards_address_and_transport(behind_proxy: Endpoint) -> None:
    plain = conditioned_user(behind_proxy, {})
    assert not allowed(plain.list_users) and not allowed(plain.list_groups)
    forwarded = conditioned_user(behind_proxy, {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert allowed(forwarded.list_users) and allowed(forwarded.list_groups)
    # The client the proxy names is the rightmost address it did not add itself: a caller's own prefix is ignored.
    chained = conditioned_user(behind_proxy, {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    assert not allowed(chained.list_users)
    # The standard header (RFC 7239) from the same proxy says the same.
    standard = conditioned_user(behind_proxy, {"Forwarded": 'for="203.0.113.9:4711";proto=https'})
    assert allowed(standard.list_users) and allowed(standard.list_groups)


def sign_in(server: Endpoint, forwarded_for: str) -> int:
    data = urllib.parse.urlencode({"account": ACCOUNT, "username": "nobody", "password": "wrong"}).encode()
    request = urllib.request.Request(server.url + "/signin", data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": server.url, "X-Forwarded-For": forwarded_for})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def same_minute() -> None:
    """The per-address limit counts per minute: start the attempts well inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_the_sign_in_limit_counts_the_connection_unless_a_proxy_is_trusted(untrusted: Endpoint,
                                                                         behind_proxy: Endpoint) -> None:
    same_minute()
    untrusted.reset()
    codes = [sign_in(untrusted, f"203.0.113.{n}") for n in (1, 2, 3)]
    assert codes[-1] == 429, f"a new X-Forwarded-For per attempt escaped the per-address limit: {codes}"
    behind_proxy.reset()
    codes = [sign_in(behind_proxy, "203.0.113.1") for _ in range(3)]
    assert codes[-1] == 429, codes
    assert sign_in(behind_proxy, "203.0.113.2") != 429, "the limit counts each forwarded address on its own"


def test_proxy_headers_are_off_unless_the_operator_names_proxies() -> None:
    assert _proxy_options(Settings()) == {"proxy_headers": False}
    assert _proxy_options(Settings(forwarded_allow_ips=("10.0.0.1", "192.168.0.0/16"))) == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.1", "192.168.0.0/16"]}


@pytest.mark.parametrize(("field", "value"), [("forwarded_allow_ips", ("proxy.example",)),
                                              ("fetch_allow_private", ("*",)),
                                              ("fetch_allow_private", ("10.0.0.0/33",))])
def test_addresses_that_are_not_addresses_are_refused(field: str, value: tuple[str, ...]) -> None:
    with pytest.raises(SettingsError, match=field.replace("_", "-")):
        Settings(dev=True, **{field: value}).checked()
