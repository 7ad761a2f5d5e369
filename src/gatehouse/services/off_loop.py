"""A mark for use cases too slow for the event loop (argon2: a few hundred ms per check, up to 26 per call).

On SQLite the wire layer runs signed requests on the event loop, where a slow one stalls every other request of
every account; it runs a marked operation on a worker thread instead (argon2-cffi releases the GIL while it hashes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_gatehouse_off_event_loop"


def off_event_loop(method: F) -> F:
    setattr(method, _MARK, True)
    return method


def runs_off_event_loop(method: Callable[..., Any]) -> bool:
    return bool(getattr(method, _MARK, False))
