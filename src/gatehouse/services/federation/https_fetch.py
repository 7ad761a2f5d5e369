"""Fetching an identity provider's JSON documents (OIDC discovery, JWKS): HTTPS only, certificates verified against
the standard trust store, bounded in time and size.

The trust store is the one `ssl.create_default_context()` loads, which honours SSL_CERT_FILE and SSL_CERT_DIR, so a
private CA (or a test CA) can be trusted without code. Redirects are followed only to other HTTPS URLs: a
redirect to plain HTTP would let anyone on the path substitute the keys.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

MAX_DOCUMENT = 512 * 1024
TIMEOUT_S = 5.0  # per network operation (connect, each read)
TOTAL_TIMEOUT_S = 10.0  # for the whole body: a server trickling a byte per TIMEOUT_S would otherwise hold on for days


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object; the message says why (for logs, not clients)."""


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 3

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme != "https":
            raise FetchError(f"refusing a redirect from {req.full_url} to a non-HTTPS URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HttpsJsonFetcher:
    """GETs JSON objects over verified HTTPS. One instance per process: it holds the TLS context."""

    def __init__(self, *, timeout: float = TIMEOUT_S, max_bytes: int = MAX_DOCUMENT,
                 context: ssl.SSLContext | None = None, total_timeout: float = TOTAL_TIMEOUT_S) -> None:
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self._context = context or ssl.create_default_context()
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self._context),
                                                   _HttpsOnlyRedirects())

    def get_json(self, url: str) -> dict[str, Any]:
        if urlsplit(url).scheme != "https":
            raise FetchError(f"refusing to fetch {url}: only HTTPS is accepted")
        request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                       "User-Agent": "gatehouse-federation"})
        deadline = time.monotonic() + self.total_timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = _read_until(response, self.max_bytes + 1, deadline, url)
        except FetchError:
            raise
        except urllib.error.HTTPError as e:
            raise FetchError(f"{url} answered HTTP {e.code}") from None
        except (OSError, ValueError) as e:  # URLError, TLS failures, timeouts, malformed URLs
            raise FetchError(f"cannot fetch {url}: {e}") from None
        if len(body) > self.max_bytes:
            raise FetchError(f"{url} sent more than {self.max_bytes} bytes")
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
