"""Backup and restore over both backends: a snapshot of a store being written is consistent (one transaction),
restore brings back exactly what was saved and refuses, changing nothing, a file of another schema revision,
another master key, or one truncated or altered; a SQLite backup restores into PostgreSQL and back."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text

from gatehouse.app import Application, build, snapshots
from gatehouse.model import User
from gatehouse.services.backup import BackupError, BackupFile, restore_backup, write_backup
from gatehouse.services.bootstrap import create_account
from gatehouse.services.secretbox import new_master_key
from gatehouse.settings import Secret, Settings
from gatehouse.storage.sql.backup import SqlSnapshots, TableRows
from gatehouse.storage.sql.migrate import alembic_config
from tests.support import MASTER_KEY

NOW = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
Factory = Callable[..., Application]


@pytest.fixture(params=["sqlite", "postgresql"])
def make_app(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_factory: Any) -> Iterator[Factory]:
    """Applications over fresh stores of one backend: make_app() a new store, make_app(like=app) another
    application on the same store; key= another master key."""
    made: list[Application] = []

    def make(like: Application | None = None, key: str = MASTER_KEY) -> Application:
        if like is not None:
            settings = Settings(data_dir=like.settings.data_dir, db_url=like.settings.db_url, master_key=Secret(key))
        elif request.param == "sqlite":
            settings = Settings(data_dir=tmp_path / f"data{len(made)}", master_key=Secret(key))
        else:
            settings = Settings(db_url=pg_schema_factory(), master_key=Secret(key))
        app = build(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()


def content(app: Application) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (revisions aside: a restore lifts them)."""
    with snapshots(app).snapshot() as (_, tables):
        out = {}
        for part in tables:
            rows = [tuple(v for c, v in zip(part.columns, row, strict=True) if c != "revision") for row in part.rows]
            out[part.name] = rows
    return out


def root_secret_opens(app: Application, account: str, key_id: str, secret: str) -> bool:
    with app.store.read(account) as tx:
        key = tx.keys.get(key_id)
    return key is not None and app.box.open(key.sealed_secret, key_id) == secret


def test_restore_brings_back_exactly_the_snapshot(make_app: Factory, tmp_path: Path) -> None:
    app = make_app()
    first = create_account(app.store, app.box, app.clock, "111111111111")
    saved = content(app)
    file = tmp_path / "store.gh"
    summary = write_backup(file, snapshots(app), app.box, NOW)
    assert summary.rows["access_keys"] == 1 and file.stat().st_mode & 0o777 == 0o600
    assert first.secret_access_key and first.secret_access_key.encode() not in gzip.decompress(file.read_bytes())
    later = create_account(app.store, app.box, app.clock, "222222222222")
    restore_backup(file, snapshots(app), app.box)
    assert content(app) == saved
    assert root_secret_opens(app, "111111111111", first.access_key_id, first.secret_access_key)
    assert not root_secret_opens(app, "222222222222", later.access_key_id, later.secret_access_key or "")


def test_revisions_only_move_forward(make_app: Factory, tmp_path: Path) -> None:
    """A server left running keys its policy caches by account revision: a restore must not reuse one."""
    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    write_backup(tmp_path / "b.gh", snapshots(app), app.box, NOW)
    for _ in range(5):
        with app.store.write("111111111111"):
            pass
    before = app.store.revision("111111111111")
    restore_backup(tmp_path / "b.gh", snapshots(app), app.box)
    assert app.store.revision("111111111111") > before


class SlowSnapshots(SqlSnapshots):
    """Pauses between tables, so that writers get in while a snapshot is read."""

    def _tables_of(self, conn: Any) -> Iterator[TableRows]:
        for part in super()._tables_of(conn):
            time.sleep(0.05)
            yield part


def test_a_backup_of_a_store_being_written_is_one_consistent_snapshot(make_app: Factory, tmp_path: Path) -> None:
    """Each write adds a user and bumps the account's revision in one transaction: in a consistent snapshot the
    users counted equal the revisions counted, although `accounts` is read well before `users`."""
    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    base = app.store.revision("111111111111")
    writer_app = make_app(like=app)  # another "process" on the same store
    stop, errors, written = threading.Event(), [], [0]

    def write() -> None:
        try:
            while not stop.is_set():
                with writer_app.store.write("111111111111") as tx:
                    n = written[0]
                    tx.users.insert(User(account_id="111111111111", user_id=f"AIDA{n:017d}", name=f"u{n}", path="/",
                                         created=NOW))
                written[0] += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while written[0] < 3:
            time.sleep(0.01)
        file = tmp_path / "live.gh"
        write_backup(file, SlowSnapshots(app.store.engine), app.box, NOW)
    finally:
        stop.set()
        thread.join()
    assert not errors
    lines = [json.loads(x) for x in gzip.decompress(file.read_bytes()).splitlines()]
    revision = users = None
    table = ""
    for obj in lines[1:-1]:
        if isinstance(obj, dict):
            table, cols = obj["table"], obj["columns"]
            continue
        row = dict(zip(cols, obj, strict=True))
        if table == "accounts" and row["account_id"] == "111111111111":
            revision = row["revision"]
        if table == "users":
            users = (users or 0) + 1
    assert revision is not None and users is not None
    assert users == revision - base, "the backup mixed two moments"
    assert written[0] > users, "no write landed while the snapshot was read: the test proved nothing"


def test_restore_refuses_another_master_key_and_changes_nothing(make_app: Factory, tmp_path: Path) -> None:
    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    write_backup(tmp_path / "b.gh", snapshots(app), app.box, NOW)
    other = make_app(key=new_master_key())
    create_account(other.store, other.box, other.clock, "333333333333")
    before = content(other)
    with pytest.raises(BackupError, match="another master key"):
        restore_backup(tmp_path / "b.gh", snapshots(other), other.box)
    assert content(other) == before


def _rewrite(src: Path, dst: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    dst.write_bytes(gzip.compress(b"".join(change(gzip.decompress(src.read_bytes()).splitlines(keepends=True)))))


def test_restore_refuses_damaged_or_foreign_files_and_changes_nothing(make_app: Factory, tmp_path: Path) -> None:
    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    good = tmp_path / "good.gh"
    write_backup(good, snapshots(app), app.box, NOW)
    create_account(app.store, app.box, app.clock, "222222222222")
    before = content(app)

    def header(**changes: Any) -> Callable[[list[bytes]], list[bytes]]:
        def change(lines: list[bytes]) -> list[bytes]:
            head = json.loads(lines[0])
            head.update(changes)
            return [json.dumps(head).encode() + b"\n", *lines[1:]]
        return change

    def altered(lines: list[bytes]) -> list[bytes]:
        i = next(i for i, x in enumerate(lines) if b'"111111111111"' in x and x.startswith(b"["))
        return [*lines[:i], lines[i].replace(b"111111111111", b"111111111112"), *lines[i + 1:]]

    cases: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
        "revision": (header(schema_revision="0999"), "schema revision 0999"),
        "version": (header(version=99), "format version"),
        "truncated": (lambda lines: lines[:-3], "truncated|altered"),
        "altered": (altered, "altered or damaged"),
        "not json": (lambda lines: [b"hello\n"], "not a Gatehouse backup"),
    }
    for name, (change, message) in cases.items():
        bad = tmp_path / f"{name.replace(' ', '-')}.gh"
        _rewrite(good, bad, change)
        with pytest.raises(BackupError, match=message):
            restore_backup(bad, snapshots(app), app.box)
        assert content(app) == before, name
    raw = tmp_path / "cut.gh"
    raw.write_bytes(good.read_bytes()[:-20])  # a gzip stream cut short
    with pytest.raises(BackupError):
        restore_backup(raw, snapshots(app), app.box)
    assert content(app) == before


def test_a_sealed_value_from_another_key_is_refused(make_app: Factory, tmp_path: Path) -> None:
    """The key check alone is not trusted: every sealed value must open under this server's key."""
    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    other = make_app(key=new_master_key())
    create_account(other.store, other.box, other.clock, "111111111111")
    with other.store.read("111111111111") as tx:
        foreign = tx.keys.for_user(None)[0]
    with app.store.engine.begin() as conn:  # one row of this store sealed under another key
        conn.execute(text("UPDATE access_keys SET access_key_id = :k, sealed_secret = :s"),
                     {"k": foreign.access_key_id, "s": foreign.sealed_secret})
    write_backup(tmp_path / "b.gh", snapshots(app), app.box, NOW)
    with pytest.raises(BackupError, match=r"access_keys\.sealed_secret"):
        restore_backup(tmp_path / "b.gh", snapshots(app), app.box)


def test_backup_never_overwrites_unless_forced(make_app: Factory, tmp_path: Path) -> None:
    app = make_app()
    file = tmp_path / "b.gh"
    file.write_text("keep me")
    with pytest.raises(BackupError, match="exists"):
        write_backup(file, snapshots(app), app.box, NOW)
    assert file.read_text() == "keep me"
    link = tmp_path / "link.gh"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BackupError, match="exists"):
        write_backup(link, snapshots(app), app.box, NOW)
    assert not (tmp_path / "elsewhere").exists()
    write_backup(file, snapshots(app), app.box, NOW, replace=True)
    assert BackupFile(file).header.revision == snapshots(app).revision()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]  # nothing left behind


def test_a_sqlite_backup_restores_into_postgresql(tmp_path: Path, pg_schema_factory: Any) -> None:
    """The format is the same whatever the database: moving between backends is a backup and a restore."""
    lite = build(Settings(data_dir=tmp_path / "lite", master_key=Secret(MASTER_KEY)))
    pg = build(Settings(db_url=pg_schema_factory(), master_key=Secret(MASTER_KEY)))
    try:
        made = create_account(lite.store, lite.box, lite.clock, "111111111111")
        write_backup(tmp_path / "lite.gh", snapshots(lite), lite.box, NOW)
        restore_backup(tmp_path / "lite.gh", snapshots(pg), pg.box)
        assert content(pg) == content(lite)
        assert root_secret_opens(pg, "111111111111", made.access_key_id, made.secret_access_key or "")
        write_backup(tmp_path / "pg.gh", snapshots(pg), pg.box, NOW)
        create_account(lite.store, lite.box, lite.clock, "222222222222")
        restore_backup(tmp_path / "pg.gh", snapshots(lite), lite.box)
        assert content(lite) == content(pg)
    finally:
        lite.close()
        pg.close()


class ReflectedSnapshots(SqlSnapshots):
    """Reads whatever tables the database has (an older schema), as a server of that older version would."""

    def _tables_of(self, conn: Any) -> Iterator[TableRows]:
        found = MetaData()
        found.reflect(conn)
        for table in found.sorted_tables:
            if table.name != "alembic_version":
                cols = tuple(c.name for c in table.columns)
                yield TableRows(table.name, cols, self._rows(conn, table, list(table.primary_key.columns)))


def test_a_backup_of_an_older_schema_is_migrated_up(tmp_path: Path) -> None:
    """A backup taken by the previous version (the store one migration back) restores into this version's schema;
    one of a revision this version does not know is refused."""
    old = build(Settings(data_dir=tmp_path / "old", master_key=Secret(MASTER_KEY)))
    made = create_account(old.store, old.box, old.clock, "111111111111")
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(previous, str)
    with old.store.engine.connect() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, previous)
        conn.commit()
    write_backup(tmp_path / "old.gh", ReflectedSnapshots(old.store.engine), old.box, NOW)
    old.close()
    assert BackupFile(tmp_path / "old.gh").header.revision == previous
    new = build(Settings(data_dir=tmp_path / "new", master_key=Secret(MASTER_KEY)))
    try:
        summary = restore_backup(tmp_path / "old.gh", snapshots(new), new.box)
        assert summary.revision == previous and summary.rows["access_keys"] == 1
        assert root_secret_opens(new, "111111111111", made.access_key_id, made.secret_access_key or "")
        assert snapshots(new).revision() == script.get_current_head()
        _rewrite(tmp_path / "old.gh", tmp_path / "future.gh", lambda lines: [
            lines[0].replace(f'"schema_revision":"{previous}"'.encode(), b'"schema_revision":"9999"'), *lines[1:]])
        with pytest.raises(BackupError, match="revision 9999"):
            restore_backup(tmp_path / "future.gh", snapshots(new), new.box)
    finally:
        new.close()


def test_organizations_are_backed_up_and_their_revisions_move_forward(make_app: Factory, tmp_path: Path) -> None:
    """The organization's tables are in the backup, and its revision (which keys SCP and RCP caches) is lifted by a
    restore as an account's is."""
    from gatehouse.organization import SCP, OrgAccount, Organization

    app = make_app()
    create_account(app.store, app.box, app.clock, "111111111111")
    org = Organization("o-abcdefghij", "111111111111", "r-ab12", "ALL", NOW, policy_types=(SCP,))
    with app.store.write("111111111111") as tx:
        tx.organizations.insert(org)
        tx.organizations.add_account(OrgAccount("111111111111", org.org_id, org.root_id, "m", "", "CREATED", NOW))
        tx.organizations.attach(org.org_id, "p-FullAWSAccess", org.root_id)
    summary = write_backup(tmp_path / "o.gh", snapshots(app), app.box, NOW)
    assert summary.rows["organizations"] == 1 and summary.rows["org_attachments"] == 1
    with app.store.write("111111111111") as tx:
        tx.organizations.bump(org.org_id)
        before = tx.organizations.bump(org.org_id)
        tx.organizations.detach(org.org_id, "p-FullAWSAccess", org.root_id)
    restore_backup(tmp_path / "o.gh", snapshots(app), app.box)
    with app.store.read() as tx:
        shape = tx.organizations.shape(org.org_id)
    assert shape is not None and shape.org.policy_types == (SCP,)
    assert shape.attachments == {"r-ab12": ("p-FullAWSAccess",)}
    assert shape.org.revision > before
