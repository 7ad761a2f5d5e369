"""Backup, restore and master-key rotation on a store of a chosen size (SQLite file by default, or `--db URL`).

    .venv/bin/python bench/backup.py [--users 20000] [--keys 2000] [--db postgresql+psycopg://...]

Fills a fresh store (users in one transaction, access keys sealed one by one), then times `write_backup`,
`restore_backup` and `rotate_master_key` in process, and prints rows, file size and seconds. Bounded: it touches
only the temporary directory (or the schema of `--db`, whose tables it empties) it is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from gatehouse.app import MASTER_KEY_CHECK, build, snapshots
from gatehouse.model import AccessKey, User
from gatehouse.services.backup import restore_backup, write_backup
from gatehouse.services.bootstrap import create_account
from gatehouse.services.key_rotation import rotate_master_key
from gatehouse.services.secretbox import new_master_key
from gatehouse.settings import Settings

ACCOUNT = "111111111111"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--keys", type=int, default=2000)
    parser.add_argument("--db", help="a PostgreSQL URL whose schema this may fill and empty (default: SQLite)")
    a = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gatehouse-bench-backup-"))
    key_file = tmp / "master.key"
    key_file.write_text(new_master_key() + "\n")
    key_file.chmod(0o600)
    settings = Settings(data_dir=tmp / "data", db_url=a.db, master_key_file=key_file)
    app = build(settings)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    create_account(app.store, app.box, app.clock, ACCOUNT)
    with app.store.write(ACCOUNT) as tx:
        for i in range(a.users):
            tx.users.insert(User(account_id=ACCOUNT, user_id=f"AIDA{i:017d}", name=f"user{i}", path="/", created=now))
    for i in range(a.keys):
        key_id = f"AKIABENCH{i:011d}"
        with app.store.write(ACCOUNT) as tx:
            tx.keys.insert(AccessKey(account_id=ACCOUNT, access_key_id=key_id, user_id=f"AIDA{i:017d}",
                                     status="Active", created=now, sealed_secret=app.box.seal("s" * 40, key_id)))
    store = snapshots(app)
    file = tmp / "bench.gh"
    t0 = time.perf_counter()
    summary = write_backup(file, store, app.box, now)
    t1 = time.perf_counter()
    restore_backup(file, store, app.box)
    t2 = time.perf_counter()
    report = rotate_master_key(key_file, store, grace=0,
                               record_check=lambda box: store.put_server_value(MASTER_KEY_CHECK, box.check_value()))
    t3 = time.perf_counter()
    app.close()
    print(f"backend {store.dialect}: {summary.total} rows ({a.users} users, {a.keys} sealed keys), "
          f"file {file.stat().st_size / 1e6:.2f} MB")
    print(f"backup {t1 - t0:.2f} s, restore {t2 - t1:.2f} s (check + load), "
          f"rotate-master-key {t3 - t2:.2f} s ({report.total} re-sealed, {report.passes} passes)")


if __name__ == "__main__":
    main()
