"""A test OIDC issuer on loopback HTTPS (certificate from a test CA): discovery document, JWKS, signed tokens.

It counts the requests it serves, can rotate its signing key, and can also serve plain HTTP (to show that such an
issuer is refused).
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.support.pki import LoopbackCa

CLIENT_ID = "gatehouse-tests"
SUBJECT = "repo:acme/app:ref:refs/heads/main"


class OidcIssuer:
    def __init__(self, ca: LoopbackCa | None, *, path: str = "") -> None:
        self.key: RSAKey | ECKey = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "alg": "RS256",
                                                                         "use": "sig"})
        self.published: list[RSAKey | ECKey] = [self.key]
        self.requests: list[str] = []
        self.path = path
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                if self.path == f"{issuer.path}/.well-known/openid-configuration":
                    body: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys",
                                            "response_types_supported": ["id_token"],
                                            "subject_types_supported": ["public"],
                                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                elif self.path == f"{issuer.path}/keys":
                    body = {"keys": [k.as_dict(private=False) for k in issuer.published]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.httpd.server_address[1]
        scheme = "http"
        if ca is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca.chain, ca.leaf_key_file)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{port}{path}"
        self.host = self.url.split("://", 1)[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def token(self, *, key: RSAKey | ECKey | None = None, header: dict[str, Any] | None = None,
              **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": CLIENT_ID, "sub": SUBJECT, "iat": now, "nbf": now - 5, "exp": now + 600,
                "jti": uuid.uuid4().hex, **claims}
        key = key or self.key
        alg = "ES256" if isinstance(key, ECKey) else "RS256"
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT", **(header or {})}, body, key)

    def rotate(self) -> None:
        """A new key (an EC one, to exercise both kinds) that signs from now on, published next to the old one."""
        self.key = ECKey.generate_key("P-256", parameters={"kid": f"test-key-{len(self.published) + 1}",
                                                           "alg": "ES256", "use": "sig"})
        self.published.append(self.key)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
