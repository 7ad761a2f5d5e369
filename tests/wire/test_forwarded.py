"""`Forwarded` (RFC 7239) from trusted proxies: the rule uvicorn applies to X-Forwarded-For, for the standard
header. Each case: the peer, the headers, the client address and scheme the application must see."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gatehouse.wire.forwarded import ForwardedHeader

PROXY = "10.0.0.5"


def seen(peer: str, headers: list[tuple[str, str]], allowed: tuple[str, ...] = ("10.0.0.0/8",),
         kind: str = "http") -> tuple[str, str]:
    got: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.update(scope)

    scope = {"type": kind, "client": (peer, 5555), "scheme": "http" if kind == "http" else "ws",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    asyncio.run(ForwardedHeader(app, allowed)(scope, None, None))  # type: ignore[arg-type]
    return got["client"][0], got["scheme"]


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    # A trusted proxy names the client and how it connected.
    (PROXY, [("Forwarded", "for=203.0.113.9;proto=https")], ("203.0.113.9", "https")),
    # Quoted node with a port, and IPv6 in brackets.
    (PROXY, [("Forwarded", 'for="203.0.113.9:4711"')], ("203.0.113.9", "http")),
    (PROXY, [("Forwarded", 'for="[2001:db8::1]:4711"')], ("2001:db8::1", "http")),
    # An untrusted peer's header changes nothing.
    ("198.51.100.1", [("Forwarded", "for=203.0.113.9;proto=https")], ("198.51.100.1", "http")),
    # A caller's own prefix is ignored: the client is the rightmost address that is not a trusted proxy.
    (PROXY, [("Forwarded", "for=192.0.2.66, for=203.0.113.9")], ("203.0.113.9", "http")),
    (PROXY, [("Forwarded", "for=192.0.2.66, for=203.0.113.9, for=10.0.0.7")], ("203.0.113.9", "http")),
    # Headers repeated are one list, in order.
    (PROXY, [("Forwarded", "for=192.0.2.66"), ("Forwarded", "for=203.0.113.9")], ("203.0.113.9", "http")),
    # Only the proxy talking to us may say the scheme: an earlier hop's proto is not believed.
    (PROXY, [("Forwarded", "for=203.0.113.9;proto=https, for=10.0.0.7")], ("203.0.113.9", "http")),
    # Unknown or obfuscated nodes stop the walk at the last address read.
    (PROXY, [("Forwarded", "for=unknown")], (PROXY, "http")),
    (PROXY, [("Forwarded", "for=_hidden, for=10.0.0.7")], ("10.0.0.7", "http")),
    # Garbage is ignored, never an error.
    (PROXY, [("Forwarded", ";;=,,for")], (PROXY, "http")),
    # X-Forwarded-For present: uvicorn decided already, Forwarded is left alone.
    (PROXY, [("X-Forwarded-For", "198.51.100.2"), ("Forwarded", "for=203.0.113.9")], (PROXY, "http")),
], ids=["trusted", "quoted-port", "ipv6", "untrusted", "prefix", "chain", "repeated", "proto-only-last-hop",
        "unknown", "obfuscated", "garbage", "xff-wins"])
def test_forwarded(peer: str, headers: list[tuple[str, str]], expected: tuple[str, str]) -> None:
    assert seen(peer, headers) == expected


def test_any_proxy_when_told_so_and_websocket_schemes() -> None:
    assert seen("198.51.100.1", [("Forwarded", "for=203.0.113.9;proto=https")], ("*",), "websocket") == (
        "203.0.113.9", "wss")
