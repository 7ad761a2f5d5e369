"""What the single exit of the request path hands to the trail: one API call, as the wire layer saw it.

The wire layer knows the operation, its model (which members are sensitive) and the protocol; the trail knows
CloudTrail's record format and storage. This value is the contract between them: everything in it is already
safe to keep (secrets removed) and JSON-ready.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gatehouse.model import Caller


def new_event_id() -> str:
    """A new event's id: a UUID, as CloudTrail's are, of RFC 9562's version 7 (milliseconds since the epoch, then 74
    random bits). Ids in time order append at the end of the trail's unique index on event_id; random (version 4)
    ids each dirtied a random page of it, so appending cost grew with the trail (15 to 43 µs an event by 120,000
    events, SQLite; see bench/README.md)."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 + 62 used
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62
             | rand & 0x3FFF_FFFF_FFFF_FFFF)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Decision:
    """One authorization decision taken while serving the call: which action on which resource, the outcome and,
    for an Allow, the statement that allowed it (the policy's label and the statement's Sid or index), so that
    last-accessed data can name what was used."""

    action: str
    resource: str
    allowed: bool
    policy: str | None = None  # e.g. "arn:aws:iam::aws:policy/ReadOnlyAccess" or "user/alice/inline-name"
    statement: str | None = None


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request to the AWS API, served or refused.

    `caller` is None when the request never authenticated (bad signature, unknown key); `account_id` is then the
    account the presented key belongs to, if any. `request_parameters` and `response_elements` use CloudTrail's
    member names (lowerCamelCase) with every sensitive member (secret keys, passwords, session tokens, MFA seeds,
    private keys) removed; `response_elements` is None for a refused call."""

    event_id: str
    request_id: str
    time: dt.datetime
    service: str  # the signing name: "iam", "sts", "cloudtrail", ...
    operation: str  # "CreateUser"; for an unknown action, what was asked for
    region: str
    source_ip: str
    user_agent: str
    caller: Caller | None
    account_id: str | None
    access_key_id: str | None
    read_only: bool
    request_parameters: Mapping[str, Any] | None
    response_elements: Mapping[str, Any] | None
    error_code: str | None = None
    error_message: str | None = None
    decisions: tuple[Decision, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Step:
    """One operation a use case performed on the caller's behalf inside a single request (OffboardUser deletes
    keys, detaches policies, ...): recorded as its own event, as if it had been called on its own.
    `params` uses the operation's input member names (UserName, AccessKeyId)."""

    service: str
    operation: str
    params: Mapping[str, Any]


T = TypeVar("T")

_steps: ContextVar[list[Step] | None] = ContextVar("gatehouse_steps", default=None)


@contextlib.contextmanager
def collecting(into: ContextVar[list[T] | None]) -> Iterator[list[T]]:
    """A fresh list in `into` for the duration of one request (what its use cases note there), reset after."""
    collected: list[T] = []
    token = into.set(collected)
    try:
        yield collected
    finally:
        into.reset(token)


def collecting_steps() -> contextlib.AbstractContextManager[list[Step]]:
    """Collect the steps use cases record while one request is served (the single exit turns each into an event)."""
    return collecting(_steps)


def record_step(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Note a step done for the current request; outside a collecting request (a test, a tool), nothing."""
    steps = _steps.get()
    if steps is not None:
        steps.append(Step(service, operation, dict(params)))


class CallRecord(Protocol):
    """One request's place in the trail, open while the request is served."""

    def finish(self, call: ApiCall, steps: Sequence[ApiCall] = ()) -> None:
        """Append `call`'s event, after one event per step it performed. A write the request made inside this scope
        commits in the same transaction as its events, so there is no change without its event and no event for a
        change that rolled back."""
        ...


class CallRecorder(Protocol):
    """What the single exit of the request path hands every call to.

    `request()` opens the scope in which a served call runs: writes made in it are held open (not committed) until
    `finish`; leaving the scope without `finish` (an exception) rolls them back. `record` appends a call that ran no
    write (refused before it was served, or failed): reads may be batched."""

    def request(self) -> AbstractContextManager[CallRecord]: ...
    def record(self, call: ApiCall) -> None: ...
