"""The `gatehouse` command: serve the API, bootstrap a data directory, and the offline policy tools."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from gatehouse import __version__
from gatehouse.cli.account import account_app
from gatehouse.cli.audit import audit_app
from gatehouse.cli.backup import backup_command, restore_command, rotate_master_key_command
from gatehouse.cli.login import login_command
from gatehouse.cli.policy_cmds import eval_command, policy_app
from gatehouse.cli.serve import init_command, serve_command
from gatehouse.cli.transfer import export_command, import_command
from gatehouse.cli.whoami import whoami_command

app = typer.Typer(no_args_is_help=True,
                  context_settings={"help_option_names": ["-h", "--help"]})
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
    """Gatehouse: a self-hosted IAM service with the AWS wire API.

    Operator commands (import, export, whoami, ...) talk to a running server as the `aws` CLI does: \
--endpoint-url (default http://127.0.0.1:4599, or GATEHOUSE_ENDPOINT_URL) and the standard AWS credentials \
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or --profile). Colours only on a terminal (NO_COLOR turns them off); \
exit status 0 on success, 1 when the operation failed, 2 on a usage error.

    Examples:

      gatehouse serve --data ./data

      gatehouse whoami --output json

      gatehouse import account.json --endpoint-url http://127.0.0.1:4599

      gatehouse --install-completion
    """


app.command("serve")(serve_command)
app.command("init")(init_command)
app.command("login")(login_command)
app.command("whoami")(whoami_command)
app.command("import")(import_command)
app.command("export")(export_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("rotate-master-key")(rotate_master_key_command)
app.add_typer(account_app, name="account", help="Operator commands on accounts.")
app.add_typer(audit_app, name="audit", help="The audit trail: verify it, export it.")

app.add_typer(policy_app, name="policy", help="Validate policy documents offline.")
app.command("eval")(eval_command)


def main() -> None:
    app(prog_name="gatehouse")


if __name__ == "__main__":  # pragma: no cover
    main()


