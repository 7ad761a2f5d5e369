"""`gatehouse whoami`: who the server takes the caller to be (STS GetCallerIdentity), to check credentials before
running anything else with them."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from gatehouse.cli.remote import (
    DEFAULT_ENDPOINT,
    Output,
    api_errors,
    client,
    endpoint_option,
    output_option,
    print_json,
    profile_option,
)

out = Console(highlight=False, soft_wrap=True)


def whoami_command(
    ctx: typer.Context,
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
    output: output_option = Output.table,
) -> None:
    """Print the caller's account, user id and ARN, as `aws sts get-caller-identity` does.

    Examples:

      gatehouse whoami

      gatehouse whoami --output json --profile gatehouse

      AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=... gatehouse whoami --endpoint-url http://127.0.0.1:4599
    """
    with api_errors():
        identity = client("sts", ctx).get_caller_identity()
    identity = {k: identity[k] for k in ("UserId", "Account", "Arn") if k in identity}
    if output is Output.json:
        print_json(identity)
        return
    table = Table(show_header=False, box=None)
    for key, value in identity.items():
        table.add_row(key, value)
    out.print(table)
