"""AssumeRoleWithWebIdentity is unsigned: whatever a token holds, anyone can send it. Malformed tokens are
InvalidIdentityToken, never an internal failure."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator

import pytest

from gatehouse.app import Application
from gatehouse.services.federation.https_fetch import FetchError
from gatehouse.services.federation.issuer_keys import IssuerKeys
from tests.security.support import ACCOUNT, new_app, unsigned


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: bytes, payload: bytes) -> str:
    return f"{_b64(header)}.{_b64(payload)}.{_b64(b'signature')}"


@pytest.fixture(scope="module")
def app() -> Iterator[Application]:
    application = new_app()
    yield application
    application.close()


@pytest.mark.parametrize("header, payload", [
    (b'{"alg":"RS256"}', b"[" * 5000 + b"]" * 5000),
    (b"[" * 5000 + b"]" * 5000, b'{"iss":"https://idp.example.com"}'),
    (b'{"alg":"RS256"}', b'{"iss":' + b"9" * 5000 + b"}"),
    (b'{"alg":"RS256"}', b'{"iss":"https://idp.example.com\\u0000/x"}'),
    (b'{"alg":"none"}', b'{"iss":"https://idp.example.com"}'),
])
def test_hostile_tokens_are_invalid_identity_tokens(app: Application, header: bytes, payload: bytes) -> None:
    answer = unsigned(app, {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r", "RoleSessionName": "session",
                            "WebIdentityToken": _token(header, payload)})
    assert (answer.status, answer.code) == (400, "InvalidIdentityToken"), answer.body[:300]


class _Unreachable:
    """An issuer that cannot be reached: each fetch waits on `release` (as a fetch waits for its timeout), then
    fails; fetches are counted."""

    def __init__(self) -> None:
        self.fetches = 0
        self.release = threading.Event()
        self.started = threading.Event()

    def get_json(self, url: str) -> dict[str, object]:
        self.fetches += 1
        self.started.set()
        self.release.wait(10)
        raise FetchError(f"cannot reach {url}")


def test_an_unreachable_issuer_is_not_asked_again_and_again() -> None:
    """Tokens are unsigned requests: a flood naming an issuer that is down used to start one slow fetch each, until
    every worker thread was stuck in one."""
    fetcher = _Unreachable()
    fetcher.release.set()
    keys = IssuerKeys(fetcher, clock=lambda: 1000.0)  # type: ignore[arg-type]
    for _ in range(20):
        with pytest.raises(FetchError):
            keys.keys_for("https://idp.example.com", "kid")
    assert fetcher.fetches == 1


def test_one_fetch_at_a_time_per_issuer() -> None:
    fetcher = _Unreachable()
    keys = IssuerKeys(fetcher)  # type: ignore[arg-type]
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            keys.keys_for("https://idp.example.com", None)
        except FetchError as error:
            outcome.append(error)

    first = threading.Thread(target=fetch)
    first.start()
    assert fetcher.started.wait(5)
    start = time.monotonic()
    with pytest.raises(FetchError):
        keys.keys_for("https://idp.example.com", None)  # answered at once, without a second fetch
    assert time.monotonic() - start < 1.0 and fetcher.fetches == 1
    fetcher.release.set()
    first.join(10)
    assert not first.is_alive() and len(outcome) == 1
