"""Token buckets per access key and per account (issue 16): AWS's Throttling past either, none taken when refused."""

from __future__ import annotations

import pytest

from gatehouse.errors import Throttling
from gatehouse.wire.limits import Throttle, ThrottleConfig, claimed_caller


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_its_rate() -> None:
    clock = Clock()
    throttle = Throttle(ThrottleConfig(per_key=2, per_account=0, burst=2), clock)
    for _ in range(4):
        throttle.admit("AKIA1", "111111111111")
    with pytest.raises(Throttling) as e:
        throttle.admit("AKIA1", "111111111111")
    assert (e.value.code, e.value.message, e.value.http_status) == ("Throttling", "Rate exceeded", 400)
    throttle.admit("AKIA2", "111111111111")  # another key has its own bucket
    clock.now += 0.5
    throttle.admit("AKIA1", "111111111111")  # refilled at 2 a second


def test_an_account_is_bounded_across_its_keys_without_touching_other_accounts() -> None:
    clock = Clock()
    throttle = Throttle(ThrottleConfig(per_key=100, per_account=1, burst=3), clock)
    for n in range(3):
        throttle.admit(f"AKIA{n}", "111111111111")
    with pytest.raises(Throttling):
        throttle.admit("AKIA9", "111111111111")
    throttle.admit("AKIA9", "222222222222")


def test_zero_is_no_limit() -> None:
    throttle = Throttle(ThrottleConfig(per_key=0, per_account=0), Clock())
    for _ in range(10_000):
        throttle.admit("AKIA1", "111111111111")


def test_the_claimed_caller_is_read_cheaply_from_the_credential() -> None:
    header = b"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/iam/aws4_request, SignedHeaders=host"
    assert claimed_caller([(b"authorization", header)], b"", "10.0.0.1") == "AKIAEXAMPLE"
    assert claimed_caller([], b"X-Amz-Credential=ASIAX%2F2026", "10.0.0.1") == "ASIAX"
    assert claimed_caller([], b"Action=AssumeRoleWithWebIdentity", "10.0.0.1") == "ip:10.0.0.1"


def test_a_body_that_never_ends_is_answered_request_timeout_and_the_connection_closed() -> None:
    import asyncio
    from typing import Any

    from tests.security.support import new_app

    app = new_app()
    try:
        assert app.asgi is not None
        app.asgi.body_timeout = 0.3
        scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
                 "headers": [(b"content-type", b"application/x-www-form-urlencoded")], "client": ("127.0.0.1", 1)}
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if not sent and not getattr(receive, "done", False):
                receive.done = True  # type: ignore[attr-defined]
                return {"type": "http.request", "body": b"Action=Li", "more_body": True}
            await asyncio.sleep(3600)  # the rest never comes
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        asyncio.run(asyncio.wait_for(app.asgi(scope, receive, send), timeout=10))
        assert sent[0]["status"] == 400 and (b"connection", b"close") in sent[0]["headers"]
        assert b"<Code>RequestTimeout</Code>" in sent[1]["body"]
    finally:
        app.close()
