"""The recorder the application wires until the audit trail lands: it keeps no record.

It holds the request path to the `CallRecorder` contract (a served call runs inside `request()` and ends with one
`finish`; a refused one goes to `record`), so the single exit is exercised exactly as the trail will see it, and
swapping this for the trail changes nothing in the wire layer. Nothing it is given is stored or printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from gatehouse.services.audit.calls import ApiCall


class _Scope:
    __slots__ = ("finished",)

    def __init__(self) -> None:
        self.finished = False

    def finish(self, call: ApiCall, steps: Sequence[ApiCall] = ()) -> None:
        if self.finished:
            raise RuntimeError("a call's record is finished once")
        self.finished = True  # the commit point of the trail's transaction: here, nothing to commit


class NoTrail:
    """A `CallRecorder` that records nothing (no audit trail configured)."""

    @contextmanager
    def request(self) -> Iterator[_Scope]:
        yield _Scope()

    def record(self, call: ApiCall) -> None:
        """Dropped: there is no trail to append to."""
