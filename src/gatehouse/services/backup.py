"""`gatehouse backup` and `gatehouse restore`: a consistent snapshot of a store in one portable file.

The file (documented in docs/backup.md) is gzip-compressed JSON Lines, the same whatever the database:
  1. a header object: format, version, schema revision, source dialect, time taken, and a key check (a known
     value sealed under the master key: restore tells a wrong key before touching anything);
  2. per table (parents first) an object {"table", "columns"} followed by one JSON array per row; bytes are
     {"b64": ...} and timestamps {"utc": ISO 8601}, everything else is plain JSON;
  3. a trailer {"end": true, "rows": {table: count}, "sha256": hex of every line before it}.
Sealed values are copied as they are stored (AES-GCM under the master key): the file holds no clear secret and is
useless without the key, which it does not contain. Restore migrates a file of an older schema revision up,
refuses one of a revision this version does not know, a truncated or altered file, and a file whose key check or
any sealed value does not open under this server's master key; it then replaces the whole store in one
transaction, so a refused or failed restore changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gatehouse.services.key_rotation import fsync_dir
from gatehouse.services.sealed_columns import SEALED_COLUMNS, SealedColumn
from gatehouse.services.secretbox import SealedSecretError, SecretBox

FORMAT = "gatehouse-backup"
VERSION = 1
_KEY_CHECK = ("gatehouse backup key check", "gatehouse-backup/key-check")  # (plain text, binding)


class BackupError(ValueError):
    """A backup that cannot be written, or a file restore refuses; nothing was changed."""


class Snapshots(Protocol):
    """What the store offers (storage/sql/backup.py)."""

    @property
    def dialect(self) -> str: ...
    def describe(self) -> str: ...
    def revision(self) -> str: ...
    def snapshot(self) -> contextlib.AbstractContextManager[tuple[str, Iterator[Any]]]: ...
    def replace_all(self, tables: Iterable[Any]) -> dict[str, int]: ...
    def can_upgrade_from(self, revision: str) -> bool: ...
    def upgraded(self, revision: str, tables: Iterable[Any]) -> contextlib.AbstractContextManager[Iterator[Any]]: ...


@dataclass(frozen=True)
class Part:
    name: str
    columns: tuple[str, ...]
    rows: Iterable[tuple[Any, ...]]


@dataclass
class Summary:
    path: Path
    revision: str
    created: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


# --- values --------------------------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {"utc": value.isoformat()}
    if value is None or isinstance(value, bool | int | str | float):
        return value
    raise BackupError(f"cannot write a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        try:
            if set(value) == {"b64"}:
                return base64.b64decode(value["b64"], validate=True)
            if set(value) == {"utc"}:
                return dt.datetime.fromisoformat(value["utc"]).replace(tzinfo=dt.UTC)
        except (binascii.Error, ValueError, TypeError) as e:
            raise BackupError(f"the backup holds a malformed value: {e}") from None
        raise BackupError("the backup holds a value of unknown form")
    if isinstance(value, list):
        raise BackupError("the backup holds a value of unknown form")
    return value


def _line(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


# --- writing -------------------------------------------------------------------------------------------------

def key_check(box: SecretBox) -> str:
    return base64.b64encode(box.seal(*_KEY_CHECK)).decode()


def write_backup(path: Path, snapshots: Snapshots, box: SecretBox, now: dt.datetime, *,
                 replace: bool = False) -> Summary:
    """Write a snapshot of the store to `path` (0600, created exclusively: never through a planted link, never
    over an existing file unless `replace`). The file appears whole or not at all."""
    path = Path(path)
    if path.exists() and not replace:
        raise BackupError(f"{path} exists; choose another name (or --force to replace it)")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise BackupError(f"cannot create {tmp}: {e.strerror}") from None
    created = now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                summary = _write(gz, snapshots, box, created, path)
            raw.flush()
            os.fsync(raw.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if `path` appeared meanwhile
            except FileExistsError:
                raise BackupError(f"{path} exists; choose another name (or --force to replace it)") from None
            os.unlink(tmp)
        fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return summary


def _write(out: gzip.GzipFile, snapshots: Snapshots, box: SecretBox, created: str, path: Path) -> Summary:
    digest = hashlib.sha256()

    def emit(obj: Any) -> None:
        data = _line(obj)
        digest.update(data)
        out.write(data)

    with snapshots.snapshot() as (revision, tables):
        summary = Summary(path=path, revision=revision, created=created)
        emit({"format": FORMAT, "version": VERSION, "schema_revision": revision, "dialect": snapshots.dialect,
              "created": created, "key_check": key_check(box)})
        for part in tables:
            emit({"table": part.name, "columns": list(part.columns)})
            count = 0
            for row in part.rows:
                emit([_encode(v) for v in row])
                count += 1
            summary.rows[part.name] = count
    out.write(_line({"end": True, "rows": summary.rows, "sha256": digest.hexdigest()}))
    return summary


# --- reading -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    revision: str
    dialect: str
    created: str
    key_check: bytes


class BackupFile:
    """A backup file, read (and checked) as a stream: nothing is held in memory but one row."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.header = self._header()

    def _open(self) -> gzip.GzipFile:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as e:
            raise BackupError(f"cannot read {self.path}: {e.strerror}") from None
        return gzip.GzipFile(fileobj=os.fdopen(fd, "rb"), mode="rb")

    def _lines(self) -> Iterator[tuple[bytes, Any]]:
        with self._open() as f:
            try:
                for raw in f:
                    try:
                        yield raw, json.loads(raw)
                    except ValueError:
                        raise BackupError(f"{self.path} is not a Gatehouse backup (or is damaged)") from None
            except (OSError, EOFError, gzip.BadGzipFile) as e:
                raise BackupError(f"{self.path} is not a Gatehouse backup, or is truncated or damaged ({e})") from None

    def _header(self) -> Header:
        for _, obj in self._lines():
            if not (isinstance(obj, dict) and obj.get("format") == FORMAT):
                break
            if obj.get("version") != VERSION:
                raise BackupError(f"backup format version {obj.get('version')} is not one this version reads "
                                  f"({VERSION})")
            try:
                return Header(revision=str(obj["schema_revision"]), dialect=str(obj.get("dialect", "")),
                              created=str(obj.get("created", "")),
                              key_check=base64.b64decode(obj["key_check"], validate=True))
            except (KeyError, binascii.Error, ValueError):
                break
        raise BackupError(f"{self.path} is not a Gatehouse backup")

    def tables(self) -> Iterator[Part]:
        """Each table with its rows, streamed; raises BackupError (at the latest after the last row) when the file
        is truncated, altered or inconsistent, so a consumer in a transaction rolls back."""
        lines = self._lines()
        digest = hashlib.sha256()
        counts: dict[str, int] = {}
        pending: list[tuple[bytes, Any]] = []

        def take() -> tuple[bytes, Any] | None:
            if pending:
                return pending.pop()
            return next(lines, None)

        first = take()
        if first is None:
            raise BackupError("empty backup")
        digest.update(first[0])
        ended = False
        while True:
            item = take()
            if item is None:
                break
            raw, obj = item
            if isinstance(obj, dict) and obj.get("end") is True:
                ended = True
                if obj.get("sha256") != digest.hexdigest() or obj.get("rows") != counts:
                    raise BackupError(f"{self.path} was altered or damaged (checksum or row counts differ)")
                if next(lines, None) is not None:
                    raise BackupError(f"{self.path} has data after its end")
                break
            if not (isinstance(obj, dict) and isinstance(obj.get("table"), str)
                    and isinstance(obj.get("columns"), list) and all(isinstance(c, str) for c in obj["columns"])):
                raise BackupError(f"{self.path} is damaged (a table header was expected)")
            digest.update(raw)
            name, columns = obj["table"], tuple(obj["columns"])
            if name in counts:
                raise BackupError(f"{self.path} holds table {name} twice")
            counts[name] = 0

            def rows(name: str = name, width: int = len(columns)) -> Iterator[tuple[Any, ...]]:
                while True:
                    nxt = take()
                    if nxt is None:
                        return
                    if not isinstance(nxt[1], list):
                        pending.append(nxt)
                        return
                    if len(nxt[1]) != width:
                        raise BackupError(f"{self.path} is damaged (a row of {name} has the wrong width)")
                    digest.update(nxt[0])
                    counts[name] += 1
                    yield tuple(_decode(v) for v in nxt[1])

            part_rows = rows()
            yield Part(name, columns, part_rows)
            for _ in part_rows:  # the consumer may stop early: the checksum still covers every row
                pass
        if not ended:
            raise BackupError(f"{self.path} is truncated (no end marker)")

    def verify(self, box: SecretBox) -> dict[str, int]:
        """Read the whole file: structure, checksum, and every sealed value opening under `box`'s key. Returns
        rows per table."""
        try:
            box.open(self.header.key_check, _KEY_CHECK[1])
        except SealedSecretError:
            raise BackupError("the backup was sealed under another master key than this server's; restore "
                              "refused (start with the key the backup was taken with)") from None
        sealed = {c.table: c for c in SEALED_COLUMNS}
        counts: dict[str, int] = {}
        for part in self.tables():
            column = sealed.get(part.name)
            count = 0
            for row in part.rows:
                count += 1
                if column is not None:
                    _check_sealed(box, column, part.columns, row)
            counts[part.name] = count
        return counts


def _check_sealed(box: SecretBox, column: SealedColumn, columns: Sequence[str], row: tuple[Any, ...]) -> None:
    values = dict(zip(columns, row, strict=True))
    try:
        box.open(values[column.column], column.binding(values))
    except (KeyError, SealedSecretError, TypeError):
        raise BackupError(f"a sealed value in {column.label} does not open under this server's master key; "
                          "restore refused") from None


def restore_backup(path: Path, snapshots: Snapshots, box: SecretBox) -> Summary:
    """Replace the store's whole content with the backup's, after checking everything that can be checked. A
    backup of an older schema revision is migrated up on the way (the store's own migrations); a newer or unknown
    one is refused."""
    backup = BackupFile(path)
    here, taken = snapshots.revision(), backup.header.revision
    if taken != here and not snapshots.can_upgrade_from(taken):
        raise BackupError(f"the backup is of schema revision {taken}, which this version cannot migrate to its own "
                          f"({here}): restore it with a Gatehouse version that knows it")
    backup.verify(box)
    # Read again to load: the checksum is checked again at the end, inside the transaction (or before it, when
    # migrating), so a file changed between the two reads changes nothing.
    if taken == here:
        loaded = snapshots.replace_all(backup.tables())
    else:
        with snapshots.upgraded(taken, backup.tables()) as tables:
            loaded = snapshots.replace_all(tables)
    return Summary(path=Path(path), revision=taken, created=backup.header.created, rows=loaded)
