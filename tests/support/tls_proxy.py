"""A TLS-terminating reverse proxy on loopback for GET requests: puts a plain-HTTP server (a Gatehouse) behind an
HTTPS URL whose certificate comes from a test CA, as a deployment's load balancer would."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.error
import urllib.request
from typing import Any

from tests.support.pki import LoopbackCa


class TlsProxy:
    def __init__(self, ca: LoopbackCa, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.requests.append(self.path)
                try:
                    with urllib.request.urlopen(proxy.upstream + self.path, timeout=10) as r:
                        status, body, kind = r.status, r.read(), r.headers.get("Content-Type", "")
                except urllib.error.HTTPError as e:
                    status, body, kind = e.code, e.read(), e.headers.get("Content-Type", "")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.chain, ca.leaf_key_file)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
