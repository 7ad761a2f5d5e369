"""The `gatehouse` command: serve the API, bootstrap a data directory, and the offline policy tools."""

from __future__ import annotations

from typing import Annotated, Any

import typer
import typer.main
from rich.console import Console

from gatehouse import __version__
from gatehouse.cli.account import account_app
from gatehouse.cli.audit import audit_app
from gatehouse.cli.authorize import authorize_command
from gatehouse.cli.backup import backup_command, restore_command, rotate_master_key_command
from gatehouse.cli.doctor import doctor_command
from gatehouse.cli.login import login_command
from gatehouse.cli.offboard import user_app
from gatehouse.cli.policy_cmds import eval_command, policy_app
from gatehouse.cli.resources import resource_app
from gatehouse.cli.serve import init_command, serve_command
from gatehouse.cli.transfer import export_command, import_command
from gatehouse.cli.whoami import whoami_command
from gatehouse.cli.workload import workload_app

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False,
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

app.add_typer(user_app, name="user")
app.add_typer(resource_app, name="resource")
app.command("authorize")(authorize_command)
app.add_typer(workload_app, name="workload")
app.command("doctor")(doctor_command)
app.add_typer(policy_app, name="policy", help="Validate policy documents offline.")
app.command("eval")(eval_command)


# Examples for the commands whose docstrings have none (those of import, export, whoami and login do), shown at
# the end of their --help: every command's help carries examples (issue 13's conventions).
EXAMPLES: dict[str, list[str]] = {
    "serve": ["gatehouse serve --dev", "gatehouse serve --data /var/lib/gatehouse --host 0.0.0.0 --port 4599"],
    "init": ["gatehouse init --data /var/lib/gatehouse --account-id 123456789012"],
    "backup": ["gatehouse backup /backups/gatehouse-$(date +%F).db --data /var/lib/gatehouse"],
    "restore": ["gatehouse restore /backups/gatehouse-2026-01-31.db --data /var/lib/gatehouse"],
    "rotate-master-key": ["gatehouse rotate-master-key --data /var/lib/gatehouse"],
    "eval": ["gatehouse eval < cases.jsonl > decisions.jsonl", "gatehouse eval --strict < cases.jsonl"],
    "account": ["gatehouse account create --data ./data --json", "gatehouse account lockout --account-id 123456789012"],
    "account create": ["gatehouse account create --data ./data --account-id 210987654321 --json"],
    "account root-key": ["gatehouse account root-key --data ./data --account-id 210987654321 --json"],
    "account root-password": ["gatehouse account root-password --account-id 123456789012 --email root@example.com"],
    "account lockout": ["gatehouse account lockout --account-id 123456789012 --threshold 5 --window 300",
                        "gatehouse account lockout --account-id 123456789012 --unlock alice"],
    "audit": ["gatehouse audit verify --data ./data", "gatehouse audit export --since 2026-01-01 --out trail.jsonl"],
    "audit verify": ["gatehouse audit verify --data /var/lib/gatehouse"],
    "audit export": ["gatehouse audit export --since 2026-01-01 --out trail.jsonl"],
    "policy": ["gatehouse policy validate policy.json"],
    "policy validate": ["gatehouse policy validate policies/*.json"],
    "user": ["gatehouse user offboard alice --dry-run"],
    "user offboard": ["gatehouse user offboard alice --dry-run", "gatehouse user offboard alice"],
    "doctor": ["gatehouse doctor", "gatehouse doctor --output json --endpoint-url http://127.0.0.1:4599"],
    "resource": ["gatehouse resource register arn:aws:notes:us-east-1:123456789012:note/1 --tag team=blue",
                 "gatehouse resource list --service notes"],
    "resource register": ["gatehouse resource register arn:aws:notes:us-east-1:123456789012:note/1 --tag team=blue "
                          "--policy note-policy.json"],
    "resource list": ["gatehouse resource list", "gatehouse resource list --service notes --output json"],
    "resource get": ["gatehouse resource get arn:aws:notes:us-east-1:123456789012:note/1"],
    "resource put-policy": ["gatehouse resource put-policy arn:aws:notes:us-east-1:123456789012:note/1 policy.json"],
    "resource get-policy": ["gatehouse resource get-policy arn:aws:notes:us-east-1:123456789012:note/1"],
    "resource delete-policy": ["gatehouse resource delete-policy arn:aws:notes:us-east-1:123456789012:note/1"],
    "resource deregister": ["gatehouse resource deregister arn:aws:notes:us-east-1:123456789012:note/1"],
    "resource tag": ["gatehouse resource tag arn:aws:notes:us-east-1:123456789012:note/1 team=blue env=prod"],
    "resource untag": ["gatehouse resource untag arn:aws:notes:us-east-1:123456789012:note/1 env"],
    "workload": ["gatehouse workload register --instance-profile web --name web-1 --output json",
                 "gatehouse workload list", "gatehouse workload revoke web-1",
                 "gatehouse workload serve-metadata web-1 --port 8169"],
}


def _add_examples(command: Any, path: str = "") -> None:
    """Put EXAMPLES in the epilog of each command (walking the built click tree) whose help has no examples."""
    if path in EXAMPLES and "Examples:" not in (command.help or "") and not command.epilog:
        command.epilog = "Examples:\n\n" + "\n\n".join(f"  {line}" for line in EXAMPLES[path])
    for name, sub in (getattr(command, "commands", None) or {}).items():  # a group (typer's own click)
        _add_examples(sub, f"{path} {name}".strip())


def main() -> None:
    command = typer.main.get_command(app)
    _add_examples(command)
    command(prog_name="gatehouse")


if __name__ == "__main__":  # pragma: no cover
    main()


