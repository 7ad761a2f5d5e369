"""The audit trail's storage interface: events appended to per-account hash chains, the chains' heads, signed
digests, and the reads that lookups, verification and export need.

The chain rule lives here, in one place, because both the store (which appends) and the verifier (which
recomputes) must agree on it byte for byte: an event's hash is sha256 over the previous event's hash, a newline and
the record's text exactly as stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

GENESIS = "0" * 64  # the "previous hash" of a chain's first event
NO_ACCOUNT = ""  # the chain of calls that no account can be named for (unknown access key, no signature)


def chain_hash(prev_hash: str, record: str) -> str:
    """The hash of an event whose record text is `record`, following the event whose hash is `prev_hash`."""
    return hashlib.sha256(f"{prev_hash}\n{record}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: the record's text (canonical JSON) and the columns lookups filter on."""

    chain: str  # the account id, or NO_ACCOUNT
    event_id: str
    event_time: dt.datetime
    event_name: str
    event_source: str
    read_only: bool
    username: str | None
    access_key_id: str | None
    resource_type: str | None
    resource_name: str | None
    record: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    chain: str
    seq: int
    event_id: str
    event_time: dt.datetime
    record: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    chain: str
    seq: int  # the last event's; 0 when the chain has none
    hash: str
    first_seq: int  # the first event kept (retention prunes before it)
    start_hash: str = GENESIS  # the hash of the event before it (GENESIS while nothing was pruned)


@dataclass(frozen=True, slots=True)
class StoredDigest:
    seq: int
    created: dt.datetime
    body: str  # canonical JSON, as signed
    signature: str  # base64


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A LookupEvents query within one account's chain: newest first, `before_seq` continues a page."""

    chain: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    attribute: str | None = None  # event_id, event_name, read_only, username, resource_type, resource_name, ...
    value: str | bool | None = None
    before_seq: int | None = None
    limit: int = 50


class HeldWrites(Protocol):
    """One request's writes, held open until its event is appended (see `AuditLog.hold`)."""

    @property
    def open(self) -> bool:
        """Whether a write was made (and is waiting for its event)."""
        ...

    def commit(self, events: Sequence[NewEvent]) -> None:
        """Append `events` in the held transaction, then commit it."""
        ...


class AuditLog(Protocol):
    def hold(self) -> AbstractContextManager[HeldWrites]:
        """Within this scope, `Store.write` blocks join one transaction that commits only through
        `HeldWrites.commit`; leaving the scope without it rolls them back."""
        ...

    def append(self, events: Sequence[NewEvent]) -> None:
        """Append events in a short transaction of their own (calls that wrote nothing)."""
        ...

    def heads(self) -> list[ChainHead]: ...
    def add_digest(self, created: dt.datetime, make: DigestMaker) -> StoredDigest | None: ...
    def digests(self) -> list[StoredDigest]: ...
    def events(self, chain: str | None = None, since: dt.datetime | None = None) -> Iterator[StoredEvent]:
        """Every event (of one chain, or all chains), in chain then sequence order."""
        ...

    def lookup(self, query: EventQuery) -> list[StoredEvent]: ...
    def prune(self, before: dt.datetime, make: DigestMaker | None) -> int:
        """Delete each chain's events up to the last one older than `before`, move where the kept chain starts, and
        (with `make`) sign a digest saying so in the same transaction; the number deleted."""
        ...

    def save_report(self, account_id: str, generated: dt.datetime, content: str) -> None: ...
    def report(self, account_id: str) -> tuple[dt.datetime, str] | None: ...
    def save_job(self, job_id: str, account_id: str, created: dt.datetime, content: str) -> None: ...
    def job(self, job_id: str, account_id: str) -> tuple[dt.datetime, str] | None: ...


class DigestMaker(Protocol):
    def __call__(self, seq: int, previous: StoredDigest | None, heads: list[ChainHead]) -> tuple[str, str]:
        """The body and signature of digest number `seq`, over the heads read in the digest's transaction."""
        ...
