"""Time as a dependency, so tests can move it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def whole_seconds(clock: Clock) -> dt.datetime:
    """IAM reports entity timestamps to the second."""
    return clock().replace(microsecond=0)
