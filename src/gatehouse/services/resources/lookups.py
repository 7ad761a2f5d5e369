"""What POST /authorize reads per question, kept by account revision, and a unit of work opened only when needed.

An application asks about the same few principals and resources again and again. A registered resource and a
principal named by ARN are pure functions of their account's state, and every write to an account bumps its
revision (`Store.write`), so they are kept under (account, revision, ARN): an entry can never outlive a change.
The revision is the one read when the application's key was authenticated (the application's account is the
resource's and the named principal's), as the authorizer keys compiled policies. When every answer is in a cache
(here and the authorizer's), no transaction is opened at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from gatehouse.storage.repository import Store, UnitOfWork

V = TypeVar("V")
_SIZE = 4096


class RevisionCache(Generic[V]):
    """A bounded LRU of values keyed by (account, revision, name); a negative revision is never cached."""

    def __init__(self, size: int = _SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, str], V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, account: str, revision: int, name: str, load: Callable[[], V]) -> V:
        key = (account, revision, name)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        if revision >= 0:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value


class LazyUnit:
    """A read unit of work of one account, begun at its first use (and ended on leaving the block)."""

    def __init__(self, store: Store, account_id: str) -> None:
        self._store, self._account_id = store, account_id
        self._context: Any = None
        self._unit: UnitOfWork | None = None

    def __enter__(self) -> UnitOfWork:
        return cast(UnitOfWork, self)

    def __getattr__(self, name: str) -> Any:
        if self._unit is None:
            self._context = self._store.read(self._account_id)
            self._unit = self._context.__enter__()
        return getattr(self._unit, name)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._context is not None:
            self._context.__exit__(kind, error, trace)
