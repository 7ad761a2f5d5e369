"""Master-key rotation without downtime (`gatehouse rotate-master-key`; design in docs/backup.md).

Servers reading their master key from a file (`<data>/master.key` or `--master-key-file`) hold a `KeyRing`: it
opens a sealed value under any key it has loaded, and seals under the newest it knows. It watches two files, the
key file K and K.next (a stat of each, only when it seals, which is rare, or when a value fails to open): a new
key in K.next becomes the one it seals under, and any key it ever loaded stays in memory until the process ends.

A rotation then runs while servers keep answering:
  1. a new key is written to K.next (created exclusively, 0600, never through a link); K keeps the old key;
  2. after a short grace (a seal already under way finishes), every sealed value (`SEALED_COLUMNS`) is opened
     under the old key and sealed again under the new one, in short transactions, each row only if it still
     holds the value read (a concurrent change wins and is looked at again); passes repeat until one finds
     nothing left under the old key;
  3. the store records the new key's check value (`SecretBox.check_value`), then K.next replaces K (one rename);
     a last pass re-seals any value sealed under the old key meanwhile.
A server that meets a value under the new key before it stat'ed K.next finds the key then; one that started
before the rotation still opens old values. An interrupted rotation is resumed by running it again (K.next is
reused), and until step 3 the old key in K still opens every value not yet re-sealed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gatehouse.services.sealed_columns import SEALED_COLUMNS, SealedColumn
from gatehouse.services.secretbox import MasterKeyError, SealedSecretError, SecretBox, new_master_key, parse_master_key

NEXT_SUFFIX = ".next"
_FLUSH = 200


class RotationError(RuntimeError):
    """A rotation that cannot go on; the old key still opens everything not yet re-sealed."""


def next_key_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + NEXT_SUFFIX)


def read_key_file(path: Path) -> bytes:
    """A key file's key: never through a symbolic link, and only from a regular file of this user's that nobody
    else can read or write (a K.next someone else planted would choose the key new secrets are sealed under)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise MasterKeyError(f"{path} must be a regular file of this user's, mode 0600")
        return parse_master_key(f.read())


def write_key_file(path: Path, encoded: str) -> None:
    """Create a key file exclusively (0600; refuses an existing file or a link), synced to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(encoded + "\n")
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class KeyRing(SecretBox):
    """A SecretBox that follows a rotation of its key file (see the module docstring)."""

    def __init__(self, key: bytes, key_file: Path) -> None:
        super().__init__(key)
        self._file, self._next = key_file, next_key_path(key_file)
        self._lock = threading.Lock()
        self._known: dict[bytes, SecretBox] = {key: SecretBox(key)}
        self._order: list[SecretBox] = [self._known[key]]  # tried in this order; [0] seals
        self._seen: tuple[Any, ...] = ()
        self._refresh()

    def __repr__(self) -> str:
        return f"KeyRing(<{len(self._known)} keys>)"

    def _refresh(self) -> bool:
        """Load K.next and K when either changed since last looked at; True when a key was added or the sealing
        key changed."""
        seen = (_stamp(self._next), _stamp(self._file))
        if seen == self._seen:
            return False
        with self._lock:
            if seen == self._seen:
                return False
            found: list[bytes] = []
            for path in (self._next, self._file):
                with contextlib.suppress(OSError, MasterKeyError, UnicodeDecodeError):
                    found.append(read_key_file(path))
            before = (len(self._known), self._order[0])
            for key in found:
                self._known.setdefault(key, SecretBox(key))
            first = self._known[found[0]] if found else self._order[0]
            self._order = [first, *(b for b in self._known.values() if b is not first)]
            self._seen = seen
            return (len(self._known), self._order[0]) != before

    def check_values(self) -> list[str]:
        """The check value of every key loaded (a store's recorded one may be either key's during a rotation)."""
        self._refresh()
        return [box.check_value() for box in self._order]

    def seal(self, plaintext: str, bound_to: str) -> bytes:
        self._refresh()
        return self._order[0].seal(plaintext, bound_to)

    def open(self, sealed: bytes, bound_to: str) -> str:
        for attempt in range(2):
            for box in self._order:
                with contextlib.suppress(SealedSecretError):
                    return box.open(sealed, bound_to)
            if attempt or not self._refresh():
                break
        raise SealedSecretError("sealed secret does not open under this master key")


class SealedStore(Protocol):
    """What rotation needs from the store (storage/sql/backup.py)."""

    def sealed_rows(self, table: str, keys: Sequence[str], column: str,
                    extra: Sequence[str] = ()) -> Iterator[dict[str, Any]]: ...
    def replace_sealed(self, table: str, keys: Sequence[str], column: str,
                       changes: Sequence[tuple[dict[str, Any], bytes, bytes]]) -> int: ...


@dataclass
class RotationReport:
    key_file: Path
    resumed: bool = False
    passes: int = 0
    resealed: dict[str, int] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.resealed.values())


def rotate_master_key(key_file: Path, store: SealedStore, *, record_check: Callable[[SecretBox], None],
                      grace: float = 2.0, max_passes: int = 20,
                      say: Callable[[str], None] = lambda _: None) -> RotationReport:
    """Re-seal every secret under a new master key and make it the key file's (see the module docstring).
    `record_check` makes the new key's check value the store's, just before the key file changes: a server
    starting in between holds both keys (K and K.next) and accepts either check value."""
    report = RotationReport(key_file=key_file)
    try:
        old = read_key_file(key_file)
    except (OSError, MasterKeyError) as e:
        raise RotationError(f"cannot read the master key file {key_file}: {e}") from None
    nxt = next_key_path(key_file)
    if os.path.lexists(nxt):
        try:
            new = read_key_file(nxt)
        except (OSError, MasterKeyError) as e:
            raise RotationError(f"{nxt} exists but holds no usable key ({e}); remove it to start over") from None
        if new == old:
            raise RotationError(f"{nxt} holds the current key; remove it to start over")
        report.resumed = True
        say(f"Resuming with the new key already in {nxt}")
    else:
        encoded = new_master_key()
        try:
            write_key_file(nxt, encoded)
        except OSError as e:
            raise RotationError(f"cannot create {nxt}: {e}") from None
        new = parse_master_key(encoded)
        say(f"New key written to {nxt}; servers seal under it from their next seal")
        time.sleep(grace)
    old_box, new_box = SecretBox(old), SecretBox(new)
    for _ in range(max_passes):
        report.passes += 1
        if _reseal_pass(store, old_box, new_box, report) == 0:
            break
    else:
        raise RotationError("values kept appearing under the old key; run again")
    record_check(new_box)
    os.replace(nxt, key_file)  # the one step that makes the new key the key of record
    fsync_dir(key_file.parent)
    say(f"{key_file} now holds the new key")
    report.passes += 1
    _reseal_pass(store, old_box, new_box, report)  # a seal under the old key that raced the rename
    return report


def _reseal_pass(store: SealedStore, old: SecretBox, new: SecretBox, report: RotationReport) -> int:
    """One walk over every sealed column; returns how many values were found under the old key."""
    found = 0
    for column in SEALED_COLUMNS:
        changes: list[tuple[dict[str, Any], bytes, bytes]] = []
        checked = 0
        for row in store.sealed_rows(column.table, column.keys, column.column, column.needs):
            checked += 1
            resealed = _reseal(column, row, old, new)
            if resealed is not None:
                changes.append(({k: row[k] for k in column.keys}, bytes(row[column.column]), resealed))
                found += 1
            if len(changes) >= _FLUSH:
                _flush(store, column, changes, report)
        _flush(store, column, changes, report)
        report.checked[column.label] = checked
    return found


def _reseal(column: SealedColumn, row: dict[str, Any], old: SecretBox, new: SecretBox) -> bytes | None:
    """The value sealed again under `new`, or None when it is under `new` already."""
    value, binding = bytes(row[column.column]), column.binding(row)
    try:
        new.open(value, binding)
        return None
    except SealedSecretError:
        pass
    try:
        return new.seal(old.open(value, binding), binding)
    except SealedSecretError:
        raise RotationError(f"a value in {column.label} opens under neither the old nor the new key; nothing "
                            "was swapped (the old key still holds)") from None


def _flush(store: SealedStore, column: SealedColumn, changes: list[tuple[dict[str, Any], bytes, bytes]],
           report: RotationReport) -> None:
    if changes:
        done = store.replace_sealed(column.table, column.keys, column.column, changes)
        report.resealed[column.label] = report.resealed.get(column.label, 0) + done
        changes.clear()
