"""Backups and master-key rotation on real servers, and a scan for clear secrets afterwards.

A persistent server (--data) is given a secret of every kind (console and root passwords, access keys, an MFA
seed, service passwords and API keys, a server certificate's private key, the outbound OIDC issuer's signing
keys); it is backed up while it runs, its master key is rotated while signed clients keep calling it (none may
fail), it is backed up again, and restored. Then every byte of the data directory, the server's log, the CLI's
output and both backups (as stored and decompressed) is searched for each secret in clear, including the
private keys only the database holds, found by opening every sealed value with the key. PostgreSQL: a live
backup restores with `--yes`, and one of another key is refused.
"""

from __future__ import annotations

import base64
import gzip
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gatehouse.services.key_rotation import read_key_file
from gatehouse.services.sealed_columns import SEALED_COLUMNS
from gatehouse.services.secretbox import SealedSecretError, SecretBox, new_master_key
from tests.e2e.test_secrets_at_rest import give_every_secret
from tests.support import MASTER_KEY
from tests.support.servers import persistent_args, running

pytestmark = pytest.mark.e2e

PASSWORD, CHANGED, ROOT_PASSWORD = "Backup-Password-Delta-4", "Backup-Password-Echo-5", "Root-Password-Foxtrot-6"


def gatehouse(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gatehouse", *args], input=stdin, capture_output=True, text=True,
                          timeout=180, env={**os.environ, **(env or {})},
                          **({} if stdin is not None else {"stdin": subprocess.DEVNULL}))


def opened_secrets(db: Path, key: bytes) -> list[bytes]:
    """Every sealed value in the database opened with `key` (all must open): the clear values to look for."""
    box, found = SecretBox(key), []
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        for column in SEALED_COLUMNS:
            for row in conn.execute(f"SELECT * FROM {column.table}"):
                clear = box.open(row[column.column], column.binding(dict(row)))
                found += [clear.encode(), *private_numbers(clear)]
    finally:
        conn.close()
    return found


def private_numbers(text: str) -> list[bytes]:
    """A PEM private key's secret numbers as raw bytes (its PEM text also holds public parts, found elsewhere)."""
    if "PRIVATE KEY" not in text:
        return []
    key = serialization.load_pem_private_key(text.encode(), password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        secrets = [numbers.d, numbers.p, numbers.q]
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        secrets = [key.private_numbers().private_value]
    return [n.to_bytes((n.bit_length() + 7) // 8, "big") for n in secrets]


def sealed_values(db: Path) -> list[tuple[bytes, str]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [(bytes(row[c.column]), c.binding(dict(row))) for c in SEALED_COLUMNS
                for row in conn.execute(f"SELECT * FROM {c.table}")]
    finally:
        conn.close()


def test_backup_rotation_and_restore_keep_every_secret_sealed() -> None:
    data = Path(tempfile.mkdtemp(prefix="gatehouse-backup-"))
    work = Path(tempfile.mkdtemp(prefix="gatehouse-backups-"))
    before, after = work / "before.gh", work / "after.gh"
    args, extra = persistent_args(data_dir=str(data))
    args += ["--public-url", "https://gatehouse.example.com", "--log-level", "debug"]
    outputs: list[str] = []
    with running(*args) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        iam = ep.client("iam")
        clear, cli_output = give_every_secret(ep, str(data), "keeper", (PASSWORD, CHANGED, ROOT_PASSWORD))
        outputs.append(cli_output)
        r = gatehouse("backup", str(before), "--data", str(data))
        outputs.append(r.stdout + r.stderr)
        assert r.returncode == 0, r.stderr
        old_key = read_key_file(data / "master.key")

        user_key = iam.create_access_key(UserName="keeper")["AccessKey"]
        served, failures, stop = [0], [], threading.Event()

        def traffic() -> None:
            """Signed clients while the key rotates: long-term keys open from the store, new ones are sealed."""
            sts = ep.client("sts", user_key["AccessKeyId"], user_key["SecretAccessKey"])
            while not stop.is_set():
                try:
                    assert sts.get_caller_identity()["Arn"].endswith(":user/keeper")
                    iam.get_user(UserName="keeper")
                    fresh = iam.create_access_key(UserName="rotating")["AccessKey"]
                    ep.client("sts", fresh["AccessKeyId"], fresh["SecretAccessKey"]).get_caller_identity()
                    iam.delete_access_key(UserName="rotating", AccessKeyId=fresh["AccessKeyId"])
                    served[0] += 1
                except (ClientError, AssertionError, OSError) as e:
                    failures.append(repr(e))

        iam.create_user(UserName="rotating")
        thread = threading.Thread(target=traffic)
        thread.start()
        try:
            time.sleep(0.5)
            start = served[0]
            r = gatehouse("rotate-master-key", "--data", str(data), "--grace", "1")
            outputs.append(r.stdout + r.stderr)
            during = served[0] - start
            time.sleep(0.5)
        finally:
            stop.set()
            thread.join()
        assert r.returncode == 0, r.stdout + r.stderr
        assert not failures, failures[:3]
        assert during > 0, "no request was served while the key rotated: the test proved nothing"
        new_key = read_key_file(data / "master.key")
        assert new_key != old_key and not (data / "master.key.next").exists()
        r = gatehouse("backup", str(after), "--data", str(data))
        outputs.append(r.stdout + r.stderr)
        assert r.returncode == 0, r.stderr
        iam.create_user(UserName="after-backup")
        log = ep.log()

    db = data / "gatehouse.db"
    for value, binding in sealed_values(db):
        SecretBox(new_key).open(value, binding)
        with pytest.raises(SealedSecretError):
            SecretBox(old_key).open(value, binding)
    clear["sealed in the database"] = opened_secrets(db, new_key)
    clear["root secret access key"] = [extra["secret"].encode()]
    clear["old master key"] = [base64.b64encode(old_key), old_key]
    clear["current master key"] = [base64.b64encode(new_key), new_key]

    r = gatehouse("restore", str(before), "--data", str(data), "--yes")
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 1 and "another master key" in r.stderr, "a backup sealed under the old key was taken"
    r = gatehouse("restore", str(after), "--data", str(data), stdin="n\n")
    outputs.append(r.stdout + r.stderr)
    assert r.returncode != 0 and "nothing changed" in r.stderr
    r = gatehouse("restore", str(after), "--data", str(data), stdin="y\n")
    outputs.append(r.stdout + r.stderr)
    assert r.returncode == 0, r.stderr
    with running(*args) as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        assert iam.get_user(UserName="keeper")["User"]["UserName"] == "keeper"
        with pytest.raises(ClientError):
            iam.get_user(UserName="after-backup")
        sts = ep.client("sts", user_key["AccessKeyId"], user_key["SecretAccessKey"])
        assert sts.get_caller_identity()["Arn"].endswith(":user/keeper")
        log += ep.log()

    places: dict[str, bytes] = {"log": log.encode(), "CLI output": "".join(outputs).encode()}
    for folder, _, files in os.walk(data):
        for name in files:
            places[f"data/{name}"] = (Path(folder) / name).read_bytes()
    for backup in (before, after):
        places[backup.name] = backup.read_bytes()
        places[f"{backup.name} (decompressed)"] = gzip.decompress(backup.read_bytes())
    assert b"SQLite format 3" in places["data/gatehouse.db"]
    found = [f"{what} in {where}" for what, values in clear.items() for where, blob in places.items()
             if any(v in blob for v in values) and not (what == "current master key" and where == "data/master.key")]
    assert not found, "clear secrets: " + ", ".join(found)


def test_postgresql_live_backup_restores_and_another_key_is_refused(pg_url: str, pg_schema_factory: Any) -> None:
    file = Path(tempfile.mkdtemp(prefix="gatehouse-pg-backup-")) / "pg.gh"
    args, extra = persistent_args(db_url=pg_url)
    env = {"GATEHOUSE_MASTER_KEY": MASTER_KEY}
    with running(*args, env=env) as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        iam.create_user(UserName="pg-before")
        k = iam.create_access_key(UserName="pg-before")["AccessKey"]
        r = gatehouse("backup", str(file), "--db", pg_url, env=env)
        assert r.returncode == 0, r.stderr
        iam.create_user(UserName="pg-after")
    assert k["SecretAccessKey"].encode() not in gzip.decompress(file.read_bytes())
    other = {"GATEHOUSE_MASTER_KEY": new_master_key()}
    r = gatehouse("restore", str(file), "--db", pg_url, "--yes", env=other)  # the store itself refuses that key
    assert r.returncode != 0 and "master key" in r.stderr
    r = gatehouse("restore", str(file), "--db", pg_schema_factory(), "--yes", env=other)  # an empty store with it
    assert r.returncode == 1 and "another master key" in r.stderr
    r = gatehouse("restore", str(file), "--db", pg_url, "--yes", env=env)
    assert r.returncode == 0, r.stderr
    with running(*args, env=env) as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        iam.get_user(UserName="pg-before")
        with pytest.raises(ClientError):
            iam.get_user(UserName="pg-after")
        who = ep.client("sts", k["AccessKeyId"], k["SecretAccessKey"]).get_caller_identity()["Arn"]
        assert who.endswith(":user/pg-before")


def test_commands_refuse_without_creating_anything(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    r = gatehouse("backup", str(tmp_path / "x.gh"), "--data", str(missing))
    assert r.returncode == 1 and "no Gatehouse store" in r.stderr and not missing.exists()
    r = gatehouse("rotate-master-key", "--data", str(missing))
    assert r.returncode == 1 and not missing.exists()
    r = gatehouse("rotate-master-key", "--data", str(missing), env={"GATEHOUSE_MASTER_KEY": MASTER_KEY})
    assert r.returncode == 1 and "GATEHOUSE_MASTER_KEY" in r.stderr
    (tmp_path / "junk.gh").write_bytes(b"not a backup")
    r = gatehouse("restore", str(tmp_path / "junk.gh"), "--data", str(missing), "--yes")
    assert r.returncode == 1 and "not a Gatehouse backup" in r.stderr and not missing.exists()
