"""RFC 7239 `Forwarded`, believed only from the proxies the operator names (`--forwarded-allow-ips`).

Uvicorn applies `X-Forwarded-For`/`X-Forwarded-Proto` from those proxies itself but ignores `Forwarded`, the
standard header some proxies send instead. This wrapper fills that gap with the same rule: the peer must be a
trusted proxy, and the client is the first address, walking from the right (the hop nearest us), that is not one.
When `X-Forwarded-For` is present uvicorn has already decided, and `Forwarded` is left alone, so one request
never gets two answers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, allowed: Sequence[str]) -> None:
        self.any = "*" in allowed
        self.networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(a, strict=False) for a in allowed if a != "*")

    def __contains__(self, address: str) -> bool:
        if self.any:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


class ForwardedHeader:
    """ASGI wrapper: the client address and scheme a trusted proxy reports in `Forwarded`."""

    def __init__(self, app: ASGIApp, allowed: Sequence[str]) -> None:
        self.app = app
        self.trusted = TrustedProxies(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self.rewritten(scope)
        await self.app(scope, receive, send)

    def rewritten(self, scope: Scope) -> Scope:
        client = scope.get("client")
        values: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                return scope
            if name == b"forwarded":
                values.append(value.decode("latin-1"))
        if not values or not client or client[0] not in self.trusted:
            return scope
        elements = [_pairs(e) for e in ",".join(values).split(",")]
        address, scheme = client[0], None
        for position, element in enumerate(reversed(elements)):
            if address not in self.trusted:
                break
            node = _node_address(element.get("for", ""))
            if node is None:
                break  # "unknown", an obfuscated name or garbage: stop at the last address we could read
            if position == 0:  # only the proxy that talks to us may say how the client reached it
                proto = element.get("proto", "").lower()
                scheme = proto if proto in ("http", "https") else None
            address = node
        if address == client[0] and scheme is None:
            return scope
        changed = dict(scope)
        changed["client"] = (address, 0)
        if scheme is not None:
            changed["scheme"] = scheme if scope["type"] == "http" else {"http": "ws", "https": "wss"}[scheme]
        return changed


def _pairs(element: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in element.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            out.setdefault(name.strip().lower(), value)
    return out


def _node_address(node: str) -> str | None:
    """The IP address of a `for=` node (`192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:4711`), or None."""
    if node.startswith("["):
        host = node[1:].split("]", 1)[0]
    elif node.count(":") == 1:
        host = node.split(":", 1)[0]
    else:
        host = node
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None
