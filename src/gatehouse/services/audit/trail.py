"""The trail: where every API call and sign-in becomes a CloudTrail event.

A call that wrote something commits its event in the write's own transaction (`request()` holds the request's
writes open until `finish`), so there is no change without its event and no event for a change that rolled back.
A call that wrote nothing (a read, a refusal) is queued and appended in batches by a background thread, every
`batch` events or `interval` seconds, and on `close`: appending one row per read in a transaction of its own would
cost more than the read. Periodically (and on `close`) the thread signs a digest of every chain's head, when a
signing key is configured and the heads moved.

Nothing here bumps an account's revision: caches keyed on it survive recording.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gatehouse.services.audit.calls import ApiCall
from gatehouse.services.audit.records import api_event
from gatehouse.services.audit.signing import DigestSigner
from gatehouse.storage.audit import AuditLog, ChainHead, HeldWrites, NewEvent, StoredDigest

log = logging.getLogger(__name__)

_MAX_QUEUED = 100_000  # beyond this (the database unreachable for long), the oldest queued events are dropped


@dataclass(frozen=True)
class TrailTiming:
    batch: int = 500
    interval: float = 0.25  # seconds between flushes of queued events
    digest_every: float = 300.0  # seconds between signed digests (when the heads moved)
    retention_days: int = 90  # events older than this are pruned (CloudTrail's event history keeps 90 days)
    prune_every: float = 3600.0


class _Record:
    """One request's place in the trail (`CallRecord`)."""

    __slots__ = ("_held", "_trail", "finished")

    def __init__(self, trail: AuditTrail, held: HeldWrites) -> None:
        self._trail, self._held, self.finished = trail, held, False

    def finish(self, call: ApiCall, steps: Sequence[ApiCall] = ()) -> None:
        if self.finished:
            return
        self.finished = True
        if self._held.open:
            # the writes and their events (each step's, then the call's), one commit
            self._held.commit([api_event(c) for c in (*steps, call)])
        else:
            for c in (*steps, call):
                self._trail.record(c)


class AuditTrail:
    """`CallRecorder` over an `AuditLog`."""

    def __init__(self, log: AuditLog, signer: DigestSigner | None = None, timing: TrailTiming = TrailTiming()) -> None:
        self.log = log
        self.signer = signer
        self.timing = timing
        self._queue: deque[ApiCall | NewEvent] = deque()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._signed_heads: list[ChainHead] | None = None
        self._last_digest = time.monotonic()
        self._last_prune = 0.0  # the first pass of the thread prunes

    # --- CallRecorder ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def request(self) -> Iterator[_Record]:
        with self.log.hold() as held:
            yield _Record(self, held)

    def record(self, call: ApiCall) -> None:
        self._enqueue(call)

    def record_event(self, event: NewEvent) -> None:
        """An event built elsewhere (a console sign-in), batched like a read."""
        self._enqueue(event)

    # --- batching -------------------------------------------------------------------------------------------

    def _enqueue(self, item: ApiCall | NewEvent) -> None:
        if len(self._queue) >= _MAX_QUEUED:
            self._queue.popleft()
            log.warning("audit queue full: the oldest queued event was dropped")
        self._queue.append(item)
        if self._thread is None:
            self._start()
        if len(self._queue) >= self.timing.batch:
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="gatehouse-audit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.timing.interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - self._last_digest >= self.timing.digest_every:
                    self.digest()
                if time.monotonic() - self._last_prune >= self.timing.prune_every:
                    self.prune()
            except Exception:  # the database may be away for a moment: keep the events and try again
                log.exception("appending audit events failed; will retry")

    def flush(self) -> int:
        """Append what is queued, in transactions of at most `batch` events; the number appended."""
        done = 0
        with self._flush_lock:
            while self._queue:
                items = [self._queue.popleft() for _ in range(min(self.timing.batch, len(self._queue)))]
                events = [i if isinstance(i, NewEvent) else api_event(i) for i in items]
                try:
                    self.log.append(events)
                except Exception:
                    self._queue.extendleft(reversed(events))
                    raise
                done += len(events)
        return done

    def digest(self, *, force: bool = False) -> StoredDigest | None:
        """Sign the chains' heads if they moved since the last digest this process signed (or if `force`)."""
        self._last_digest = time.monotonic()
        if self.signer is None:
            return None
        heads = self.log.heads()
        if not force and (not heads or heads == self._signed_heads):
            return None
        made = self.log.add_digest(self.signer.now(), self.signer)
        self._signed_heads = heads
        return made

    def prune(self, now: dt.datetime | None = None) -> int:
        """Delete events older than the retention period; a signed digest (same transaction) marks where each kept
        chain starts, so the trail still verifies. Replicas pruning at once: the head locks serialize them."""
        self._last_prune = time.monotonic()
        if self.timing.retention_days <= 0:
            return 0
        moment = now or (self.signer.now() if self.signer else dt.datetime.now(dt.UTC))
        pruned = self.log.prune(moment - dt.timedelta(days=self.timing.retention_days), self.signer)
        if pruned:
            log.info("pruned %d audit events older than %d days", pruned, self.timing.retention_days)
        return pruned

    def close(self) -> None:
        """Stop the thread, append what is queued and sign the heads."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
            self.digest()
        except Exception:
            log.exception("the audit trail could not be flushed on close")
