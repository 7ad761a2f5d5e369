"""Fetching an issuer's documents: HTTPS only, certificates verified, redirects only to HTTPS, bounded size."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.services.federation.https_fetch import FetchError, HttpsJsonFetcher
from tests.support.pki import LoopbackCa

PLAIN_PORT: list[int] = []


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
    for s in (tls, plain):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{tls.server_address[1]}"
    for s in (tls, plain):
        s.shutdown()
        s.server_close()


@pytest.fixture
def fetcher(ca: LoopbackCa) -> HttpsJsonFetcher:
    return HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), max_bytes=1024, timeout=5)


def test_fetches_json_over_verified_https(server: str, fetcher: HttpsJsonFetcher) -> None:
    assert fetcher.get_json(server + "/doc") == {"ok": True}
    assert fetcher.get_json(server + "/to-https") == {"ok": True}


def test_honours_ssl_cert_file(server: str, ca: LoopbackCa, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca.bundle)
    assert HttpsJsonFetcher().get_json(server + "/doc") == {"ok": True}


def test_an_untrusted_certificate_is_refused(server: str, tmp_path: Path) -> None:
    other = LoopbackCa(str(tmp_path))
    with pytest.raises(FetchError):
        HttpsJsonFetcher(context=ssl.create_default_context(cafile=other.bundle)).get_json(server + "/doc")


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
