"""Fetching an identity provider's JSON documents (OIDC discovery, JWKS): HTTPS only, certificates verified against
the standard trust store, bounded in time and size, and only from public addresses.

The trust store is the one `ssl.create_default_context()` loads, which honours SSL_CERT_FILE and SSL_CERT_DIR, so a
private CA (or a test CA) can be trusted without code. Redirects are followed only to other HTTPS URLs: a
redirect to plain HTTP would let anyone on the path substitute the keys.

Anyone allowed `iam:CreateOpenIDConnectProvider` chooses the URL, and any unsigned AssumeRoleWithWebIdentity makes
the server fetch it, so the fetch must not become a way into the operator's network: the host name is resolved
once, every address it resolves to is checked (public unicast only, unless the operator allows a network with
`--fetch-allow-private`), and the connection goes to the checked address itself (TLS still verifies the name), so
a second DNS answer cannot move it elsewhere. Each redirect is resolved and checked the same way. Errors say why
for the logs; clients only ever see one fixed message.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

MAX_DOCUMENT = 512 * 1024
TIMEOUT_S = 5.0  # per network operation (connect, each read)
TOTAL_TIMEOUT_S = 10.0  # for the whole body: a server trickling a byte per TIMEOUT_S would otherwise hold on for days
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object; the message says why (for logs, not clients)."""


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def is_public(address: Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared (CGNAT), reserved, multicast or
    unspecified. An IPv4 address carried in IPv6 (mapped, 6to4, Teredo) is judged as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not address.is_multicast


class AddressPolicy:
    """Which addresses an outbound fetch may connect to: public ones, and the operator's allowed networks."""

    def __init__(self, allow_private: Iterable[str] = ()) -> None:
        self.allowed = parse_networks(allow_private)

    def permits(self, address: Address) -> bool:
        return is_public(address) or any(address in net for net in self.allowed if net.version == address.version)

    def resolve(self, host: str, port: int) -> list[str]:
        """The permitted addresses `host` resolves to, in resolver order; FetchError when there are none."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:
            raise FetchError(f"cannot resolve {host}: {e}") from None
        out: list[str] = []
        for info in infos:
            raw = str(info[4][0])
            try:
                address = ipaddress.ip_address(raw)
            except ValueError:
                continue
            if self.permits(address) and raw not in out:
                out.append(raw)
        if not out:
            raise FetchError(f"{host} resolves to no address this server may fetch from")
        return out


class _PinnedHttps(http.client.HTTPSConnection):
    """An HTTPS connection to one already-checked address, verifying the certificate for the URL's host name."""

    def __init__(self, host: str, address: str, port: int, *, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class HttpsJsonFetcher:
    """GETs JSON objects over verified HTTPS from permitted addresses. One instance per process: it holds the TLS
    context."""

    def __init__(self, *, timeout: float = TIMEOUT_S, max_bytes: int = MAX_DOCUMENT,
                 context: ssl.SSLContext | None = None, total_timeout: float = TOTAL_TIMEOUT_S,
                 allow_private: Iterable[str] = ()) -> None:
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self._context = context or ssl.create_default_context()
        self.addresses = AddressPolicy(allow_private)

    def get_json(self, url: str) -> dict[str, Any]:
        if urlsplit(url).scheme != "https":
            raise FetchError(f"refusing to fetch {url}: only HTTPS is accepted")
        deadline = time.monotonic() + self.total_timeout
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._get(current, deadline)
            if status in _REDIRECTS:
                target = urljoin(current, location or "")
                if urlsplit(target).scheme != "https":
                    raise FetchError(f"refusing a redirect from {current} to a non-HTTPS URL")
                current = target
                continue
            if status != 200:
                raise FetchError(f"{current} answered HTTP {status}")
            return _json_object(body, current, self.max_bytes)
        raise FetchError(f"{url} redirected more than {MAX_REDIRECTS} times")

    def _get(self, url: str, deadline: float) -> tuple[int, str | None, bytes]:
        """One GET of `url` on a connection pinned to a permitted address: status, Location, body."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or 443
        except ValueError as e:  # a malformed port or IPv6 literal
            raise FetchError(f"cannot fetch {url}: {e}") from None
        if not host or parts.username is not None or parts.password is not None:
            raise FetchError(f"cannot fetch {url}: no host, or credentials in the URL")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        failure: str = "no address"
        for address in self.addresses.resolve(host, port):
            if time.monotonic() > deadline:
                break
            connection = _PinnedHttps(host, address, port, timeout=self.timeout, context=self._context)
            try:
                try:
                    connection.connect()
                except OSError as e:  # refused, unreachable, TLS failure: try the next address
                    failure = str(e)
                    continue
                try:
                    connection.request("GET", target, headers={"Accept": "application/json",
                                                               "User-Agent": "gatehouse-federation",
                                                               "Connection": "close"})
                    response = connection.getresponse()
                    if response.status in _REDIRECTS:
                        return response.status, response.getheader("Location"), b""
                    if response.status != 200:
                        return response.status, None, b""
                    return 200, None, _read_until(response, self.max_bytes + 1, deadline, url)
                except (OSError, http.client.HTTPException, ValueError) as e:
                    raise FetchError(f"cannot fetch {url}: {e}") from None
            finally:
                connection.close()
        raise FetchError(f"cannot fetch {url}: {failure}")


def _json_object(body: bytes, url: str, max_bytes: int) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise FetchError(f"{url} sent more than {max_bytes} bytes")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the interpreter's stack
        raise FetchError(f"{url} did not send JSON") from None
    if not isinstance(document, dict):
        raise FetchError(f"{url} did not send a JSON object")
    return document


def _read_until(response: Any, limit: int, deadline: float, url: str) -> bytes:
    """At most `limit` bytes of the body, read before `deadline` (monotonic). `read1` returns after one receive, so
    the deadline is checked between receives; `read(n)` would keep receiving until it had n bytes."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() > deadline:
            raise FetchError(f"{url} took too long to send its document")
        chunk = response.read1(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
