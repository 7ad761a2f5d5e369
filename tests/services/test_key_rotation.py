"""Master-key rotation on both backends: every sealed value is re-sealed under a new key while a server built
before the rotation keeps sealing and opening secrets without a single failure; afterwards the key file holds the
new key, the old key opens nothing, and a server started afresh opens everything. Also: the KeyRing itself, a
resumed rotation, and that every binary column of the schema is known to the rotation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, text

from gatehouse.app import MASTER_KEY_CHECK, Application, build, snapshots
from gatehouse.services.bootstrap import create_account
from gatehouse.services.key_rotation import (
    KeyRing,
    RotationError,
    RotationReport,
    next_key_path,
    read_key_file,
    rotate_master_key,
)
from gatehouse.services.sealed_columns import SEALED_COLUMNS
from gatehouse.services.secretbox import SealedSecretError, SecretBox, new_master_key, parse_master_key
from gatehouse.settings import Settings
from gatehouse.storage.sql.tables import metadata


def test_every_binary_column_is_a_known_sealed_column() -> None:
    binary = {f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns
              if isinstance(c.type, LargeBinary)}
    assert binary == {c.label for c in SEALED_COLUMNS}, "a sealed column the rotation and backup checks ignore"


def put(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)


def rotate(app: Application, key_file: Path, grace: float = 0) -> RotationReport:
    store = snapshots(app)
    return rotate_master_key(key_file, store, grace=grace,
                             record_check=lambda box: store.put_server_value(MASTER_KEY_CHECK, box.check_value()))


def test_keyring_seals_under_the_newest_key_and_opens_under_any(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    old, new = new_master_key(), new_master_key()
    put(key_file, old)
    ring = KeyRing(parse_master_key(old), key_file)
    before = ring.seal("s1", "a")
    assert SecretBox(parse_master_key(old)).open(before, "a") == "s1"
    put(next_key_path(key_file), new_master_key(), mode=0o644)  # readable by others: never taken
    assert SecretBox(parse_master_key(old)).open(ring.seal("s0", "a"), "a") == "s0"
    next_key_path(key_file).unlink()
    put(next_key_path(key_file), new)
    during = ring.seal("s2", "b")
    assert SecretBox(parse_master_key(new)).open(during, "b") == "s2"
    next_key_path(key_file).replace(key_file)
    assert ring.open(before, "a") == "s1" and ring.open(during, "b") == "s2"
    late = KeyRing(parse_master_key(old), key_file)  # started before, first meets a new value after the swap
    assert late.open(during, "b") == "s2"
    with pytest.raises(SealedSecretError):
        ring.open(SecretBox(parse_master_key(new_master_key())).seal("x", "a"), "a")
    assert "<" in repr(ring) and old not in repr(ring)


@pytest.fixture(params=["sqlite", "postgresql"])
def key_file_settings(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_factory: Any) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data")  # the key file is the data directory's master.key
    else:
        key_file = tmp_path / "master.key"
        put(key_file, new_master_key() + "\n")
        yield Settings(db_url=pg_schema_factory(), master_key_file=key_file)


def _key_file(settings: Settings) -> Path:
    return settings.master_key_file or settings.data_dir / "master.key"


def _sealed(app: Application) -> list[tuple[Any, bytes, str]]:
    found = []
    for column in SEALED_COLUMNS:
        for row in snapshots(app).sealed_rows(column.table, column.keys, column.column, column.needs):
            found.append((column, bytes(row[column.column]), column.binding(row)))
    return found


def test_rotation_reseals_everything_while_a_server_keeps_answering(key_file_settings: Settings) -> None:
    server = build(key_file_settings)  # a server started before the rotation
    accounts: list[tuple[str, str, str]] = []
    for i in range(30):
        made = create_account(server.store, server.box, server.clock, f"1000000000{i:02d}")
        accounts.append((made.account_id, made.access_key_id, made.secret_access_key or ""))
    key_file = _key_file(key_file_settings)
    old = read_key_file(key_file)
    stop, failures, rounds = threading.Event(), [], [0]

    def serve() -> None:
        """What a live server does meanwhile: opens every key (authentication) and seals new ones."""
        n = 0
        while not stop.is_set():
            try:
                for account, key_id, secret in list(accounts):
                    with server.store.read(account) as tx:
                        key = tx.keys.get(key_id)
                    if key is None or server.box.open(key.sealed_secret, key_id) != secret:
                        failures.append(key_id)
                made = create_account(server.store, server.box, server.clock, f"2000000{n:05d}")
                accounts.append((made.account_id, made.access_key_id, made.secret_access_key or ""))
                n += 1
                rounds[0] += 1
            except Exception as e:  # pragma: no cover - reported below
                failures.append(repr(e))

    thread = threading.Thread(target=serve)
    thread.start()
    operator = build(key_file_settings)  # the `gatehouse rotate-master-key` process
    try:
        store, started = snapshots(operator), []

        def record_check(box: SecretBox) -> None:
            store.put_server_value(MASTER_KEY_CHECK, box.check_value())
            midway = build(key_file_settings)  # a server starting between the check value and the key file
            started.append(midway.box.open(midway.box.seal("x", "y"), "y"))
            midway.close()

        report = rotate_master_key(key_file, store, grace=0.2, record_check=record_check)
        assert started == ["x"]
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        operator.close()
    assert not failures, failures[:3]
    assert rounds[0] > 2, "the server did not work during the rotation: the test proved nothing"
    new = read_key_file(key_file)
    assert new != old and not next_key_path(key_file).exists() and key_file.stat().st_mode & 0o777 == 0o600
    assert report.total >= 30 and report.checked["access_keys.sealed_secret"] >= 30
    fresh = build(key_file_settings)  # a server started after
    try:
        values = _sealed(fresh)
        assert len(values) == len(accounts)
        for _, value, binding in values:
            with pytest.raises(SealedSecretError):
                SecretBox(old).open(value, binding)
            SecretBox(new).open(value, binding)
        for account, key_id, secret in accounts:
            with fresh.store.read(account) as tx:
                key = tx.keys.get(key_id)
            assert key is not None
            assert fresh.box.open(key.sealed_secret, key_id) == server.box.open(key.sealed_secret, key_id) == secret
    finally:
        fresh.close()
        server.close()


def test_an_interrupted_rotation_resumes_with_its_new_key(key_file_settings: Settings) -> None:
    app = build(key_file_settings)
    try:
        made = create_account(app.store, app.box, app.clock, "111111111111")
        key_file = _key_file(key_file_settings)
        planned = new_master_key()
        put(next_key_path(key_file), planned + "\n")  # left by a run that stopped (or placed by hand)
        report = rotate(app, key_file)
        assert report.resumed and read_key_file(key_file) == parse_master_key(planned)
        with app.store.read("111111111111") as tx:
            key = tx.keys.get(made.access_key_id)
        assert key is not None
        planned_box = SecretBox(parse_master_key(planned))
        assert planned_box.open(key.sealed_secret, made.access_key_id) == made.secret_access_key
        put(next_key_path(key_file), read_key_file(key_file).hex())  # garbage: refused, nothing swapped
        with pytest.raises(RotationError, match="no usable key"):
            rotate(app, key_file)
        put(next_key_path(key_file), new_master_key(), mode=0o640)  # another may read it: refused
        with pytest.raises(RotationError, match="no usable key"):
            rotate(app, key_file)
        assert read_key_file(key_file) == parse_master_key(planned)
    finally:
        app.close()


def test_a_value_under_neither_key_stops_the_rotation_before_the_swap(key_file_settings: Settings) -> None:
    app = build(key_file_settings)
    try:
        create_account(app.store, app.box, app.clock, "111111111111")
        stranger = SecretBox(parse_master_key(new_master_key()))
        with app.store.engine.begin() as conn:
            for key_id in conn.execute(text("SELECT access_key_id FROM access_keys")).scalars().all():
                conn.execute(text("UPDATE access_keys SET sealed_secret = :s WHERE access_key_id = :k"),
                             {"s": stranger.seal("x", key_id), "k": key_id})
        key_file = _key_file(key_file_settings)
        old = read_key_file(key_file)
        with pytest.raises(RotationError, match="neither"):
            rotate(app, key_file)
        assert read_key_file(key_file) == old and next_key_path(key_file).exists()
    finally:
        app.close()
