"""Connections that send nothing, or trickle a request's headers, are closed.

Uvicorn closes a keep-alive connection idle after a response (`timeout_keep_alive`), but it has no timer for a
connection that never sends a request, nor for headers that arrive a byte at a time: both were held until the
process ran out of file descriptors. `GuardedHttp` is uvicorn's own HTTP protocol with one more timer: from the
moment a connection opens, and again whenever a response completes, the next request's headers must be complete
within `GATEHOUSE_HEADER_TIMEOUT` seconds (default 10) or the connection is closed. The body then has its own
deadline in the ASGI app (`AwsAsgi.body_timeout`), and `limit_concurrency` caps connections at once.

Selected with `uvicorn.run(..., http="gatehouse.wire.connections:GuardedHttp")`: a string, so `--workers`
processes import it too; the timeout travels in the environment for the same reason.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

HEADER_TIMEOUT_ENV = "GATEHOUSE_HEADER_TIMEOUT"
DEFAULT_HEADER_TIMEOUT = 10.0
PROTOCOL = "gatehouse.wire.connections:GuardedHttp"


def header_timeout() -> float:
    """The configured header timeout (seconds), or the default when unset or unreadable."""
    try:
        value = float(os.environ.get(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT))
    except ValueError:
        return DEFAULT_HEADER_TIMEOUT
    return value if value > 0 else DEFAULT_HEADER_TIMEOUT


class GuardedHttp(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """Uvicorn's HTTP protocol, closing a connection whose next request's headers do not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout()
        self._header_timer: asyncio.TimerHandle | None = None
        self._armed_for: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        """Start waiting for the next request: it is seen when uvicorn starts a new request cycle (headers done)."""
        self._disarm()
        self._armed_for = self.cycle
        self._header_timer = self.loop.call_later(self._header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self.cycle is self._armed_for and not self.transport.is_closing():
            self.transport.close()  # no complete request headers since the connection opened or was last answered
