"""Client-side plumbing shared by the operator commands that talk to a running Gatehouse through its API, as the
`aws` CLI does: `--endpoint-url` (default http://127.0.0.1:4599, or GATEHOUSE_ENDPOINT_URL), `--profile`, and the
standard AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, shared files, ...).

Usage in a command::

    def my_command(ctx: typer.Context, endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
                   profile: profile_option = None) -> None:
        iam = client("iam", ctx)

`client` finds the two options among the command's parameters (or its parents'), so commands only declare them.
botocore is already a dependency (the wire layer uses its models); its session is the credential chain boto3 uses.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import botocore.session
import typer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from rich.console import Console

DEFAULT_ENDPOINT = "http://127.0.0.1:4599"
DEFAULT_REGION = "us-east-1"

endpoint_option = Annotated[str, typer.Option(
    "--endpoint-url", envvar=["GATEHOUSE_ENDPOINT_URL", "AWS_ENDPOINT_URL"], show_default=True,
    help="The Gatehouse server to talk to.")]
profile_option = Annotated[str | None, typer.Option(
    "--profile", envvar="AWS_PROFILE", help="A named profile of ~/.aws/credentials or ~/.aws/config.")]


class Output(StrEnum):
    """`--output`: a rich table for people, JSON for machines (as the `aws` CLI's option of the same name)."""

    table = "table"
    json = "json"


output_option = Annotated[Output, typer.Option("--output", "-o", help="table (for people) or json (for machines).",
                                               case_sensitive=False)]

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _param(ctx: typer.Context | None, name: str) -> Any:
    """The value of option `name` on this command or the nearest parent that declares it."""
    current: Any = ctx
    while current is not None:
        if current.params.get(name) is not None:
            return current.params[name]
        current = current.parent
    return None


def client(service: str, ctx: typer.Context | None = None, *, endpoint_url: str | None = None,
           profile: str | None = None, models: str | None = None) -> Any:
    """A botocore client (what boto3 returns) for `service` on the Gatehouse server the command was pointed at;
    `models`: a directory of service models of our own (the `gatehouse` service), searched before botocore's."""
    url = endpoint_url or _param(ctx, "endpoint_url") or DEFAULT_ENDPOINT
    try:
        session = botocore.session.Session(profile=profile or _param(ctx, "profile"))
        if models:
            session.get_component("data_loader").search_paths.insert(0, models)
        region = session.get_config_variable("region") or DEFAULT_REGION
        made = session.create_client(service, endpoint_url=url, region_name=region,
                                     config=Config(retries={"max_attempts": 2, "mode": "standard"},
                                                   connect_timeout=5, read_timeout=120))
    except ProfileNotFound as e:
        fail(str(e), 2)
    if session.get_credentials() is None:
        fail("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile", 2)
    return made


def gatehouse_client(ctx: typer.Context) -> Any:
    """A client of Gatehouse's own JSON service (workloads, resources), from our model in botocore's layout."""
    from gatehouse.wire.service_models import MODELS_DIR

    return client("gatehouse", ctx, models=str(MODELS_DIR))


def tags_from_options(values: list[str] | None) -> list[dict[str, str]]:
    """Repeated `--tag KEY=VALUE` options as AWS's Tags list (exit 2 on a malformed one)."""
    tags = []
    for value in values or ():
        key, sep, text = value.partition("=")
        if not sep or not key:
            fail(f"--tag {value!r}: expected KEY=VALUE", 2)
        tags.append({"Key": key, "Value": text})
    return tags


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `gatehouse: message` on stderr and exit with `code` (1: the operation failed, 2: usage)."""
    err.print(f"gatehouse: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn the errors of a call to the server into one clear line and exit status 1, never a traceback."""
    try:
        yield
    except ClientError as e:
        error = e.response.get("Error", {})
        fail(f"{error.get('Code', 'Error')}: {error.get('Message', '')}")
    except NoCredentialsError:
        fail("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile", 2)
    except BotoCoreError as e:
        fail(f"cannot reach the server: {e}")


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def print_json(value: Any, default: Callable[[Any], Any] = _plain) -> None:
    """Machine output: one JSON document on stdout, dates as ISO text."""
    sys.stdout.write(json.dumps(value, indent=2, default=default, ensure_ascii=False) + "\n")
