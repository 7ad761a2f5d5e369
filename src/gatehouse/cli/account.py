"""`gatehouse account ...`: operator commands on the accounts in a store (they call the same services as the API)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gatehouse.cli.serve import AccountId, Data, Db, MasterKeyFile, Partition
from gatehouse.settings import SettingsError, env_secret, store_settings

if TYPE_CHECKING:
    from gatehouse.app import Application
    from gatehouse.services.account_security import AccountSecurity

account_app = typer.Typer(no_args_is_help=True, help="Operator commands on accounts.")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@account_app.command("create")
def create(account_id: AccountId = None, data: Data = Path("data"), db: Db = None,
           master_key_file: MasterKeyFile = None, partition: Partition = None,
           json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Create an account with its root user; print its root access key pair once."""
    import json

    from gatehouse.services.bootstrap import create_account

    app = _open(data, db, master_key_file)
    try:
        result = create_account(app.store, app.box, app.clock, account_id, partition)
    except ValueError as e:  # AccountExists, or an unknown partition
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(1) from None
    finally:
        app.close()
    if json_output:  # plain stdout: rich would wrap long values and read brackets as markup
        sys.stdout.write(json.dumps({"AccountId": result.account_id, "AccessKeyId": result.access_key_id,
                                     "SecretAccessKey": result.secret_access_key}) + "\n")
        return
    out.print(f"Account: {result.account_id}")
    out.print("Root access key (shown once):")
    out.print(f"  AWS_ACCESS_KEY_ID={result.access_key_id}")
    out.print(f"  AWS_SECRET_ACCESS_KEY={result.secret_access_key}")


@account_app.command("root-key")
def root_key(account_id: Annotated[str, typer.Option("--account-id", help="The account (12 digits).")],
             data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
             json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False) -> None:
    """Give the root user of an existing account without one (such as an account made by Organizations'
    CreateAccount) an access key pair; print it once."""
    import json

    from gatehouse.services.bootstrap import root_key as make_root_key

    app = _open(data, db, master_key_file)
    try:
        result = make_root_key(app.store, app.box, app.clock, account_id)
    except ValueError as e:  # NoSuchAccount, RootKeyExists
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(1) from None
    finally:
        app.close()
    if json_output:
        sys.stdout.write(json.dumps({"AccountId": result.account_id, "AccessKeyId": result.access_key_id,
                                     "SecretAccessKey": result.secret_access_key}) + "\n")
        return
    out.print(f"Account: {result.account_id}")
    out.print("Root access key (shown once):")
    out.print(f"  AWS_ACCESS_KEY_ID={result.access_key_id}")
    out.print(f"  AWS_SECRET_ACCESS_KEY={result.secret_access_key}")


def _open(data: Path, db: str | None, master_key_file: Path | None) -> Application:
    """The application over the store the flags name (as `serve` finds it), built once for the command."""
    from gatehouse.app import build

    try:
        return build(store_settings(data, db, master_key_file))
    except SettingsError as e:
        err.print(f"[red]gatehouse: {e}[/red]")
        raise typer.Exit(2) from None


def _security(data: Path, db: str | None, master_key_file: Path | None) -> tuple[Application, AccountSecurity]:
    """The application over the store and its operator account-security service."""
    app = _open(data, db, master_key_file)
    return app, app.services.account_security


def _fail(e: Exception) -> typer.Exit:
    err.print(f"[red]gatehouse: {getattr(e, 'message', None) or e}[/red]")
    return typer.Exit(1)


@account_app.command("root-password")
def root_password(
    email: Annotated[str, typer.Option("--email", help="The root user's email address (its sign-in name).")],
    account_id: AccountId = None, data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard input.")] = False,
) -> None:
    """Set the root user's email and password (for POST /signin). The password comes from standard input
    (--password-stdin), else GATEHOUSE_ROOT_PASSWORD, else a prompt; never from a flag, which `ps` would show."""
    import sys

    from gatehouse.errors import AwsError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        given = env_secret("ROOT_PASSWORD")
        password = given.reveal() if given else typer.prompt("Root password", hide_input=True,
                                                            confirmation_prompt=True)
    app, security = _security(data, db, master_key_file)
    try:
        account = account_id or security.default_account()
        security.set_root_login(account, email, password)
    except AwsError as e:
        raise _fail(e) from None
    finally:
        app.close()
    out.print(f"Root sign-in of account {account} set for {email}.")


@account_app.command("lockout")
def lockout(
    account_id: AccountId = None, data: Data = Path("data"), db: Db = None, master_key_file: MasterKeyFile = None,
    threshold: Annotated[int | None, typer.Option("--threshold", min=0,
                                                  help="Failed sign-ins before lockout (0: never).")] = None,
    window: Annotated[int | None, typer.Option("--window", min=1, help="Seconds failures count together.")] = None,
    duration: Annotated[int | None, typer.Option("--duration", min=1, help="Seconds a lockout lasts.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Drop the account's override: server defaults apply.")
                     ] = False,
    unlock: Annotated[str | None, typer.Option("--unlock", help="Lift the lockout of this user (or 'root').")
                      ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Show or change the account's sign-in lockout: its override of the server's --lockout-* defaults, the
    settings in effect, and who is locked out now."""
    import dataclasses
    import json

    from gatehouse.credentials import LockoutSettings
    from gatehouse.errors import AwsError

    app, security = _security(data, db, master_key_file)
    try:
        account = account_id or security.default_account()
        if clear:
            security.set_lockout(account, LockoutSettings())
        if threshold is not None or window is not None or duration is not None:
            current = security.lockout(account).override
            changes = {k: v for k, v in (("threshold", threshold), ("window", window), ("duration", duration))
                       if v is not None}
            security.set_lockout(account, dataclasses.replace(current, **changes))
        if unlock:
            security.unlock(account, unlock)
        report = security.lockout(account)
    except AwsError as e:
        raise _fail(e) from None
    finally:
        app.close()
    shown = {"AccountId": account, "Override": dataclasses.asdict(report.override),
             "Effective": dataclasses.asdict(report.effective),
             "Locked": [{"User": name, "Until": until.isoformat()} for name, until in report.locked]}
    if json_output:
        out.print(json.dumps(shown))
        return
    eff = report.effective
    out.print(f"Account {account}: lock after {eff.threshold} failed sign-ins within {eff.window} s, "
              f"for {eff.duration} s" + (" (lockout off)" if eff.threshold == 0 else ""))
    out.print(f"  account override: {shown['Override']}")
    for name, until in report.locked:
        out.print(f"  locked: {name} until {until.isoformat()}")
