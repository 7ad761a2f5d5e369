"""`gatehouse backup FILE`, `gatehouse restore FILE` and `gatehouse rotate-master-key`: operator commands on a
store found as `gatehouse serve` finds it (`--data DIR` or `--db URL`, the master key from GATEHOUSE_MASTER_KEY,
`--master-key-file` or the data directory). Design and file format: docs/backup.md."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gatehouse.cli.account import store_settings
from gatehouse.cli.serve import Data, Db, MasterKeyFile
from gatehouse.settings import SettingsError

if TYPE_CHECKING:
    from gatehouse.app import Application

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

File = Annotated[Path, typer.Argument(help="The backup file.", dir_okay=False)]


@contextmanager
def _application(data: Path, db: str | None, master_key_file: Path | None) -> Iterator[Application]:
    from gatehouse.app import build

    try:
        app = build(store_settings(data, db, master_key_file).checked())
    except SettingsError as e:
        err.print(f"gatehouse: {e}")
        raise typer.Exit(2) from None
    try:
        yield app
    finally:
        app.close()


def _existing(data: Path, db: str | None) -> None:
    """Backup and rotation work on a store that exists: never create an empty one (and a key) by mistake."""
    from gatehouse.app import DATABASE_FILE

    if db is None and not (data / DATABASE_FILE).is_file():
        raise _fail(f"no Gatehouse store in {data} (give --data DIR or --db URL)")


def _fail(message: str) -> typer.Exit:
    err.print(f"gatehouse: {message}")
    return typer.Exit(1)


def backup_command(
    file: File, data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
) -> None:
    """Write a consistent snapshot of the store (safe while servers run); secrets stay sealed under the master
    key, which the file does not contain."""
    from gatehouse.app import snapshots
    from gatehouse.services.backup import BackupError, write_backup

    _existing(data, db)
    with _application(data, db, master_key_file) as app:
        try:
            summary = write_backup(file, snapshots(app), app.box, dt.datetime.now(dt.UTC), replace=force)
        except BackupError as e:
            raise _fail(str(e)) from None
    out.print(f"Backup of schema revision {summary.revision} written to {file}: {summary.total} rows in "
              f"{len(summary.rows)} tables. Its secrets open only with this store's master key: keep the key, "
              "and keep it apart from the file.")


def restore_command(
    file: File, data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace everything in the store with a backup's content (stop the servers first). Refuses a backup of
    another schema revision or sealed under another master key; a refused or failed restore changes nothing."""
    from gatehouse.app import snapshots
    from gatehouse.services.backup import BackupError, BackupFile, restore_backup

    try:
        header = BackupFile(file).header
    except BackupError as e:
        raise _fail(str(e)) from None
    with _application(data, db, master_key_file) as app:
        store = snapshots(app)
        if not yes and not typer.confirm(
                f"Replace everything in {store.describe()} with the backup taken {header.created} "
                f"(schema revision {header.revision})?", default=False):
            raise _fail("restore cancelled; nothing changed")
        try:
            summary = restore_backup(file, store, app.box)
        except BackupError as e:
            raise _fail(str(e)) from None
    out.print(f"Restored {summary.total} rows in {len(summary.rows)} tables from {file} (taken {summary.created}).")


def rotate_master_key_command(
    data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
    grace: Annotated[float, typer.Option("--grace", min=0, help="Seconds to wait after writing the new key, for "
                                                                 "seals under way to finish.")] = 2.0,
) -> None:
    """Re-seal every secret under a new master key while servers keep answering; the key file then holds it."""
    from gatehouse.app import MASTER_KEY_CHECK, snapshots
    from gatehouse.app import master_key_file as key_file_of
    from gatehouse.services.key_rotation import RotationError, rotate_master_key

    if os.environ.get("GATEHOUSE_MASTER_KEY"):
        raise _fail("the master key comes from GATEHOUSE_MASTER_KEY: a rotation needs it in a file that running "
                    "servers can watch (--master-key-file); see docs/backup.md")
    _existing(data, db)
    with _application(data, db, master_key_file) as app:
        key_file = key_file_of(app.settings)
        if key_file is None:
            raise _fail("no master key file to rotate (give --master-key-file)")
        try:
            store = snapshots(app)
            report = rotate_master_key(key_file, store, grace=grace, say=out.print,
                                       record_check=lambda box: store.put_server_value(MASTER_KEY_CHECK,
                                                                                       box.check_value()))
        except RotationError as e:
            raise _fail(str(e)) from None
    checked = sum(report.checked.values())
    out.print(f"Master key rotated: {report.total} secrets re-sealed ({checked} checked, {report.passes} passes). "
              "Backups taken before now need the old key, which is no longer kept; temporary credentials issued "
              "before a server restarts stop working after its restart.")
