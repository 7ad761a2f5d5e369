"""Files and keys the operator owns: a data directory others can write to is refused (or repaired when we made it),
key files are read only if they are ours, private and not symbolic links, created exclusively, and a master key
that is not the store's is refused by every command with a clear error."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete

from gatehouse.app import build
from gatehouse.settings import Secret, Settings, SettingsError
from gatehouse.storage.sql import tables as t


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _planted(tmp_path: Path) -> Path:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = elsewhere / "chosen.key"
    planted.write_text(_key())
    return planted


def test_a_data_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o777)
    with pytest.raises(SettingsError, match=r"writable by group or others \(mode 0777\).*chmod 700"):
        build(Settings(data_dir=data))
    assert not (data / "master.key").exists() and not (data / "gatehouse.db").exists()
    os.chmod(data, 0o770)
    with pytest.raises(SettingsError, match="writable by group"):
        build(Settings(data_dir=data))


def test_a_data_directory_we_create_is_ours_only(tmp_path: Path) -> None:
    old = os.umask(0)  # even with an umask that would leave it world-writable
    try:
        build(Settings(data_dir=tmp_path / "new")).close()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new") == 0o700


def test_a_planted_master_key_symlink_is_refused(tmp_path: Path) -> None:
    planted = _planted(tmp_path)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.symlink(planted, data / "master.key")
    with pytest.raises(SettingsError, match="symbolic link; refusing to follow it"):
        build(Settings(data_dir=data))
    assert (data / "master.key").is_symlink()  # left as found, for the operator to look at


def test_a_master_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build(Settings(data_dir=data)).close()
    os.chmod(data / "master.key", 0o644)
    with pytest.raises(SettingsError, match=r"readable or writable by group or others \(mode 0644\).*chmod 600"):
        build(Settings(data_dir=data))
    os.chmod(data / "master.key", 0o600)
    build(Settings(data_dir=data)).close()


def test_a_master_key_file_flag_gets_the_same_checks(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(_key())
    os.chmod(key_file, 0o640)
    with pytest.raises(SettingsError, match="chmod 600"):
        build(Settings(data_dir=tmp_path / "data", master_key_file=key_file))
    link = tmp_path / "link"
    os.symlink(key_file, link)
    os.chmod(key_file, 0o600)
    with pytest.raises(SettingsError, match="symbolic link"):
        build(Settings(data_dir=tmp_path / "data", master_key_file=link))
    build(Settings(data_dir=tmp_path / "data", master_key_file=key_file)).close()


def test_a_fifo_as_master_key_is_refused_without_hanging(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.mkfifo(data / "master.key", 0o600)
    with pytest.raises(SettingsError, match="not a regular file"):
        build(Settings(data_dir=data))


def test_planted_root_credentials_and_database_links_are_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "read-by-someone-else.json"
    target.write_text("nothing yet")
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.symlink(target, data / "root-credentials.json")
    app = build(Settings(data_dir=data))
    try:
        result = app.bootstrap()
    finally:
        app.close()
    assert target.read_text() == "nothing yet"
    saved = data / "root-credentials.json"
    assert not saved.is_symlink() and _mode(saved) == 0o600
    assert json.loads(saved.read_text())["SecretAccessKey"] == result.secret_access_key
    assert not [p for p in data.iterdir() if p.name.startswith(".root-credentials")]  # no temporary left behind

    other = tmp_path / "other"
    other.mkdir(mode=0o700)
    os.symlink(elsewhere / "db", other / "gatehouse.db")
    with pytest.raises(SettingsError, match=r"gatehouse\.db is a symbolic link"):
        build(Settings(data_dir=other))
    assert not (elsewhere / "db").exists()


def test_a_wrong_master_key_is_refused_by_every_start(tmp_path: Path) -> None:
    data, right = tmp_path / "data", _key()
    app = build(Settings(data_dir=data, master_key=Secret(right)))
    app.bootstrap()
    app.close()
    with pytest.raises(SettingsError, match="master key is not the one"):
        build(Settings(data_dir=data, master_key=Secret(_key())))
    build(Settings(data_dir=data, master_key=Secret(right))).close()


def test_a_store_from_before_check_values_is_checked_against_a_sealed_secret(tmp_path: Path) -> None:
    data, right = tmp_path / "data", _key()
    app = build(Settings(data_dir=data, master_key=Secret(right)))
    app.bootstrap()
    with app.store.engine.begin() as conn:  # as a store made before check values were kept
        conn.execute(delete(t.server_values))
    app.close()
    with pytest.raises(SettingsError, match="master key is not the one"):
        build(Settings(data_dir=data, master_key=Secret(_key())))
    build(Settings(data_dir=data, master_key=Secret(right))).close()  # records the check value now
    with pytest.raises(SettingsError, match="master key is not the one"):
        build(Settings(data_dir=data, master_key=Secret(_key())))


def test_account_create_with_a_wrong_master_key_fails_and_prints_no_key(tmp_path: Path) -> None:
    data, right = tmp_path / "data", _key()
    app = build(Settings(data_dir=data, master_key=Secret(right)))
    app.bootstrap()
    app.close()
    run = subprocess.run([sys.executable, "-m", "gatehouse", "account", "create", "--data", str(data), "--json"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "GATEHOUSE_MASTER_KEY": _key()})
    assert run.returncode != 0
    assert "SecretAccessKey" not in run.stdout and "master key is not the one" in run.stderr
