"""An issuer's documents are fetched within a total time, not only a per-read timeout: a server that sends one
byte just before each read would time out holds a worker thread for as long as it likes otherwise."""

from __future__ import annotations

import contextlib
import http.server
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gatehouse.services.federation.https_fetch import FetchError, HttpsJsonFetcher
from tests.support.pki import LoopbackCa


class Trickle(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"keys": "' + b"a" * 200 + b'"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gives up, as it should
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def trickling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LoopbackCa]]:
    ca = LoopbackCa(str(tmp_path_factory.mktemp("ca")))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.chain, ca.leaf_key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", ca
    server.shutdown()
    server.server_close()


def test_a_trickling_issuer_is_given_up_on(trickling: tuple[str, LoopbackCa]) -> None:
    url, ca = trickling
    fetcher = HttpsJsonFetcher(context=ssl.create_default_context(cafile=ca.bundle), timeout=2, total_timeout=1,
                               allow_private=["127.0.0.0/8"])  # the test issuer is on loopback
    start = time.monotonic()
    with pytest.raises(FetchError, match="took too long"):
        fetcher.get_json(url + "/jwks")  # 20 s of trickle, each byte well within the per-read timeout
    assert time.monotonic() - start < 5
