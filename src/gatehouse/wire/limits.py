"""What one caller may hold of the server: request rate, worker threads, and the time its request may take to send.

* `Throttle`: a token bucket per access key and one per account, refilled continuously. A request over either
  answers AWS's `Throttling` ("Rate exceeded", HTTP 400, Sender), as AWS throttles per caller and per account.
  The account's bucket keeps one account's many keys from taking every other account's share.
* `Executor`: every AWS API request runs in a bounded pool of worker threads, never on the event loop, so a
  request whose work grows with its input (the simulator, GetAccountAuthorizationDetails) cannot stall the others;
  one caller (the access key it claims, or its address when unsigned) holds at most `per_caller` of the threads at
  once and waits for its own turn beyond that, so it cannot fill the pool either.

Both are process-local (with `--workers N`, each process has its own): a bound on each process is a bound on all.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from gatehouse.errors import Throttling

T = TypeVar("T")

_MAX_BUCKETS = 100_000  # idle buckets beyond this are forgotten (a forgotten bucket is a full one: no harm)


@dataclass(frozen=True)
class ThrottleConfig:
    """Sustained requests per second per access key and per account (0: unlimited); bursts of `burst` seconds."""

    per_key: float = 200.0
    per_account: float = 500.0
    burst: float = 2.0

    @property
    def enabled(self) -> bool:
        return self.per_key > 0 or self.per_account > 0


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class Throttle:
    """Token buckets per access key and per account; thread-safe (requests are admitted in worker threads)."""

    def __init__(self, config: ThrottleConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, access_key_id: str, account_id: str) -> None:
        """Take one token from the key's and the account's buckets, or raise Throttling (taking none)."""
        config = self.config
        if not config.enabled:
            return
        now = self.clock()
        with self._lock:
            wanted = []
            if config.per_key > 0:
                wanted.append((self._bucket("k:" + access_key_id, config.per_key, now), config.per_key))
            if config.per_account > 0:
                wanted.append((self._bucket("a:" + account_id, config.per_account, now), config.per_account))
            for bucket, rate in wanted:
                bucket.tokens = min(rate * config.burst, bucket.tokens + (now - bucket.stamp) * rate)
                bucket.stamp = now
            if any(bucket.tokens < 1 for bucket, _ in wanted):
                raise Throttling("Rate exceeded")
            for bucket, _ in wanted:
                bucket.tokens -= 1

    def _bucket(self, name: str, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(rate * self.config.burst, now)
            if len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
        return bucket


class Executor:
    """Runs blocking handlers in at most `threads` worker threads, at most `per_caller` of them per caller.

    A plain `ThreadPoolExecutor` under the running asyncio loop: measured at about a third of anyio's
    `to_thread` overhead per hop (~30 µs against ~80 µs of CPU), which every request pays. The pool and the
    per-caller semaphores are made on first use; only the event loop thread touches `_callers`, so it needs no lock.
    """

    def __init__(self, threads: int = 8, per_caller: int = 4) -> None:
        self.threads = threads
        self.per_caller = per_caller
        self._pool: ThreadPoolExecutor | None = None
        self._callers: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}

    async def run(self, caller: str, fn: Callable[..., T], *args: object) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="gatehouse-api")
        entry = self._callers.get(caller)
        if entry is None:
            entry = self._callers[caller] = (asyncio.Semaphore(self.per_caller), [0])
        semaphore, users = entry
        users[0] += 1
        try:
            async with semaphore:
                return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._callers[caller]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None


def claimed_caller(headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...], query_string: bytes,
                   client: str) -> str:
    """Who a request says it is, cheaply and before any check: the access key id of its credential (header or
    presigned query), else its address. Only used to share threads fairly, never to decide anything."""
    for name, value in headers:
        if name == b"authorization":
            return _key_after(value, b"Credential=") or "ip:" + client
    if b"X-Amz-Credential=" in query_string:
        return _key_after(query_string, b"X-Amz-Credential=") or "ip:" + client
    return "ip:" + client


def _key_after(text: bytes, marker: bytes) -> str:
    start = text.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    end = start
    while end < len(text) and end - start < 128 and text[end:end + 1] not in (b"/", b"%", b",", b" ", b"&"):
        end += 1
    return text[start:end].decode("latin-1")
