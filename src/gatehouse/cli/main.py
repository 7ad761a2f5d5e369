"""The `gatehouse` command: serve the API, bootstrap a data directory, and the offline policy tools."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from gatehouse import __version__
from gatehouse.cli.account import account_app
from gatehouse.cli.audit import audit_app
from gatehouse.cli.backup import backup_command, restore_command, rotate_master_key_command
from gatehouse.cli.doctor import doctor_command
from gatehouse.cli.login import login_command
from gatehouse.cli.offboard import user_app
from gatehouse.cli.policy_cmds import eval_command, policy_app
from gatehouse.cli.serve import init_command, serve_command

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Gatehouse: IAM that speaks AWS's language.")
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gatehouse {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Gatehouse: a self-hosted IAM service with the AWS wire API."""


app.command("serve")(serve_command)
app.command("init")(init_command)
app.command("login")(login_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("rotate-master-key")(rotate_master_key_command)
app.add_typer(account_app, name="account", help="Operator commands on accounts.")
app.add_typer(audit_app, name="audit", help="The audit trail: verify it, export it.")

app.add_typer(user_app, name="user")
app.command("doctor")(doctor_command)
app.add_typer(policy_app, name="policy", help="Validate policy documents offline.")
app.command("eval")(eval_command)


def main() -> None:
    app(prog_name="gatehouse")


if __name__ == "__main__":  # pragma: no cover
    main()


