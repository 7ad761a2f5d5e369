"""`gatehouse account ...`: operator commands on the accounts in a store (they call the same services as the API)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gatehouse.cli.serve import AccountId, Data, Db, MasterKeyFile
from gatehouse.settings import Secret, Settings, SettingsError

account_app = typer.Typer(no_args_is_help=True, help="Operator commands on accounts.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def store_settings(data: Path, db: str | None, master_key_file: Path | None) -> Settings:
    master = os.environ.get("GATEHOUSE_MASTER_KEY")
    return Settings(data_dir=data, db_url=db, master_key_file=master_key_file,
                    master_key=Secret(master) if master else None)


@account_app.command("create")
def create(account_id: AccountId = None, data: Data = Path("data"), db: Db = None,
           master_key_file: MasterKeyFile = None,
           json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Create an account with its root user; print its root access key pair once."""
    import json

    from gatehouse.app import build
    from gatehouse.services.bootstrap import AccountExists, create_account

    try:
        app = build(store_settings(data, db, master_key_file).checked())
    except SettingsError as e:
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(2) from None
    try:
        result = create_account(app.store, app.box, app.clock, account_id)
    except AccountExists as e:
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(1) from None
    finally:
        app.close()
    if json_output:
        out.print(json.dumps({"AccountId": result.account_id, "AccessKeyId": result.access_key_id,
                              "SecretAccessKey": result.secret_access_key}))
        return
    out.print(f"Account: {result.account_id}")
    out.print("Root access key (shown once):")
    out.print(f"  AWS_ACCESS_KEY_ID={result.access_key_id}")
    out.print(f"  AWS_SECRET_ACCESS_KEY={result.secret_access_key}")
