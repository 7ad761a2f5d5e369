"""Fetching an issuer's documents: HTTPS only, certificates verified, redirects only to HTTPS, bounded size, and
only from public addresses unless the operator allows a network (the test issuers live on loopback, so every
fetcher here that should reach them is given the allowance explicitly)."""

from __future__ import annotations

import http.server
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.services.federation.https_fetch import FetchError, HttpsJsonFetcher, is_public
from tests.support.pki import LoopbackCa

PLAIN_PORT: list[int] = []
TLS_PORT: list[int] = []
LOOPBACK = ("127.0.0.0/8",)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/doc":
            self._send(200, json.dumps({"ok": True}).encode())
        elif self.path == "/big":
            self._send(200, b'{"x": "' + b"a" * 4096 + b'"}')
        elif self.path == "/list":
            self._send(200, b"[1, 2]")
        elif self.path == "/html":
            self._send(200, b"<html></html>")
        elif self.path == "/to-http":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{PLAIN_PORT[0]}/doc")
            self.end_headers()
        elif self.path == "/to-other-loopback":
            self.send_response(302)
            self.send_header("Location", f"https://127.0.0.2:{TLS_PORT[0]}/doc")
            self.end_headers()
        elif self.path == "/to-https":
            self.send_response(302)
            self.send_header("Location", "/doc")
            self.end_headers()
        else:
            self._send(404, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCa:
    return LoopbackCa(str(tmp_path_factory.mktemp("ca")))


@pytest.fixture(scope="module")
def server(ca: LoopbackCa) -> Iterator[str]:
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.chain, ca.leaf_key_file)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    PLAIN_PORT[:] = [plain.server_address[1]]
    TLS_PORT[:] = [tls.server_address[1]]
    for s in (tls, plain):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{tls.server_address[1]}"
    for s in (tls, plain):
        s.shutdown()
        s.server_close()


@pytest.fixture
def fetcher(ca: LoopbackCa) -> HttpsJsonFetcher:
    return HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), max_bytes=1024, timeout=5,
                            allow_private=LOOPBACK)


def test_fetches_json_over_verified_https(server: str, fetcher: HttpsJsonFetcher) -> None:
    assert fetcher.get_json(server + "/doc") == {"ok": True}
    assert fetcher.get_json(server + "/to-https") == {"ok": True}


def test_honours_ssl_cert_file(server: str, ca: LoopbackCa, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca.bundle)
    assert HttpsJsonFetcher(allow_private=LOOPBACK).get_json(server + "/doc") == {"ok": True}


def test_an_untrusted_certificate_is_refused(server: str, tmp_path: Path) -> None:
    other = LoopbackCa(str(tmp_path))
    with pytest.raises(FetchError):
        HttpsJsonFetcher(context=ssl.create_default_context(cafile=other.bundle),
                         allow_private=LOOPBACK).get_json(server + "/doc")


def test_a_redirect_to_plain_http_is_refused(server: str, fetcher: HttpsJsonFetcher) -> None:
    with pytest.raises(FetchError, match="non-HTTPS"):
        fetcher.get_json(server + "/to-http")


@pytest.mark.parametrize("path", ["/big", "/list", "/html", "/missing"])
def test_refused_documents(server: str, fetcher: HttpsJsonFetcher, path: str) -> None:
    with pytest.raises(FetchError):
        fetcher.get_json(server + path)


def test_plain_http_is_never_fetched(fetcher: HttpsJsonFetcher) -> None:
    with pytest.raises(FetchError, match="only HTTPS"):
        fetcher.get_json(f"http://127.0.0.1:{PLAIN_PORT[0] if PLAIN_PORT else 1}/doc")


def test_an_unreachable_host_is_a_fetch_error(fetcher: HttpsJsonFetcher) -> None:
    with pytest.raises(FetchError):
        fetcher.get_json("https://127.0.0.1:1/doc")


# --- where a fetch may connect ------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1",
                                     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1", "192.0.2.7"])
def test_non_public_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_loopback_is_refused_without_connecting_by_default(server: str, ca: LoopbackCa,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    connected: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connected.append(a) or None)
    plain = HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle))
    for url in (server + "/doc", f"https://localhost:{TLS_PORT[0]}/doc", f"https://[::1]:{TLS_PORT[0]}/doc"):
        with pytest.raises(FetchError, match="no address this server may fetch from"):
            plain.get_json(url)
    assert not connected


def test_the_allowance_is_exactly_the_networks_named(server: str, ca: LoopbackCa) -> None:
    narrow = HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), allow_private=["127.0.0.1/32"])
    assert narrow.get_json(server + "/doc") == {"ok": True}
    with pytest.raises(FetchError, match="no address this server may fetch from"):
        narrow.get_json(f"https://127.0.0.2:{TLS_PORT[0]}/doc")


def test_every_redirect_is_checked_again(server: str, ca: LoopbackCa) -> None:
    narrow = HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), allow_private=["127.0.0.1/32"])
    with pytest.raises(FetchError, match="no address this server may fetch from"):
        narrow.get_json(server + "/to-other-loopback")


def test_the_connection_goes_to_the_address_checked(server: str, ca: LoopbackCa,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name is resolved once and the checked address is dialled; a second answer naming a
    private address is never asked for, and a name resolving to both is reached only at the permitted one."""
    answers = [["10.0.0.5", "127.0.0.1"], ["10.0.0.5"]]
    resolved: list[str] = []
    dialled: list[str] = []
    real_connect, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host != "localhost":  # create_connection resolves the literal it is given
            return real_getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers.pop(0)]

    def spy_connect(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        dialled.append(address[0])
        return real_connect(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", spy_connect)
    fetcher = HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), allow_private=["127.0.0.1/32"])
    assert fetcher.get_json(f"https://localhost:{TLS_PORT[0]}/doc") == {"ok": True}
    assert resolved == ["localhost"] and dialled == ["127.0.0.1"]
