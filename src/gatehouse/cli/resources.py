"""`gatehouse resource ...`: the resource registry over the API (Gatehouse's own `gatehouse` service: RegisterResource,
PutResourcePolicy, ...), as the `aws` CLI would call it: credentials from the standard chain, `--endpoint-url`,
`--profile`, `--output`. Authorized as the caller (`gatehouse:RegisterResource` and friends on the resource's ARN).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gatehouse.cli.remote import (
    DEFAULT_ENDPOINT,
    Output,
    api_errors,
    endpoint_option,
    fail,
    gatehouse_client,
    output_option,
    print_json,
    profile_option,
    tags_from_options,
)

resource_app = typer.Typer(no_args_is_help=True, help="Applications' resources: register them, tag them and give "
                           "them resource-based policies, for POST /authorize to decide requests on them.")
out = Console(highlight=False, soft_wrap=True)

Arn = Annotated[str, typer.Argument(help="The resource's ARN, in your account and partition.")]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE (repeatable).")]
PolicyOption = Annotated[Path | None, typer.Option("--policy", help="A resource-based policy document (JSON file).")]


def _document(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        fail(f"{path}: cannot read: {e.strerror or e}", 2)


def _show(resource: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        print_json(resource)
        return
    table = Table(show_header=False, box=None)
    for key in ("ResourceArn", "Service", "HasPolicy", "CreatedDate", "LastModifiedDate"):
        if key in resource:
            table.add_row(key, str(resource[key]))
    table.add_row("Tags", ", ".join(f"{t['Key']}={t['Value']}" for t in resource.get("Tags", [])) or "-")
    out.print(table)


@resource_app.command("register")
def register_command(ctx: typer.Context, arn: Arn, tag: TagOption = None, policy: PolicyOption = None,
                     endpoint_url: endpoint_option = DEFAULT_ENDPOINT, profile: profile_option = None,
                     output: output_option = Output.table) -> None:
    """Register a resource (RegisterResource), with tags and a resource-based policy if given."""
    params: dict[str, Any] = {"ResourceArn": arn, "Tags": tags_from_options(tag)}
    if policy is not None:
        params["Policy"] = _document(policy)
    with api_errors():
        _show(gatehouse_client(ctx).register_resource(**params)["Resource"], output)


@resource_app.command("list")
def list_command(ctx: typer.Context, service: Annotated[str | None, typer.Option(
                     "--service", help="Only this service namespace.")] = None,
                 endpoint_url: endpoint_option = DEFAULT_ENDPOINT, profile: profile_option = None,
                 output: output_option = Output.table) -> None:
    """List the account's registered resources (every page of ListResources)."""
    registry, found, params = gatehouse_client(ctx), [], {"Service": service} if service else {}
    with api_errors():
        while True:
            page = registry.list_resources(**params)
            found += page.get("Resources", [])
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
    if output is Output.json:
        print_json(found)
        return
    table = Table("ResourceArn", "Service", "Policy", "Tags")
    for r in found:
        table.add_row(r["ResourceArn"], r["Service"], "yes" if r.get("HasPolicy") else "no",
                      ", ".join(f"{t['Key']}={t['Value']}" for t in r.get("Tags", [])))
    out.print(table)


@resource_app.command("get")
def get_command(ctx: typer.Context, arn: Arn, endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
                profile: profile_option = None, output: output_option = Output.table) -> None:
    """Describe a registered resource (GetResource)."""
    with api_errors():
        _show(gatehouse_client(ctx).get_resource(ResourceArn=arn)["Resource"], output)


@resource_app.command("put-policy")
def put_policy_command(ctx: typer.Context, arn: Arn,
                       policy: Annotated[Path, typer.Argument(help="The policy document (JSON file).")],
                       endpoint_url: endpoint_option = DEFAULT_ENDPOINT, profile: profile_option = None) -> None:
    """Attach or replace the resource's resource-based policy (PutResourcePolicy)."""
    with api_errors():
        gatehouse_client(ctx).put_resource_policy(ResourceArn=arn, Policy=_document(policy))
    out.print(f"policy put on {arn}")


@resource_app.command("get-policy")
def get_policy_command(ctx: typer.Context, arn: Arn, endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
                       profile: profile_option = None) -> None:
    """Print the resource's resource-based policy as stored (GetResourcePolicy)."""
    with api_errors():
        document = gatehouse_client(ctx).get_resource_policy(ResourceArn=arn)["Policy"]
    try:
        typer.echo(json.dumps(json.loads(document), indent=2))
    except ValueError:
        typer.echo(document)


@resource_app.command("delete-policy")
def delete_policy_command(ctx: typer.Context, arn: Arn, endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
                          profile: profile_option = None) -> None:
    """Remove the resource's resource-based policy (DeleteResourcePolicy)."""
    with api_errors():
        gatehouse_client(ctx).delete_resource_policy(ResourceArn=arn)
    out.print(f"policy deleted from {arn}")


@resource_app.command("deregister")
def deregister_command(ctx: typer.Context, arn: Arn, endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
                       profile: profile_option = None) -> None:
    """Remove a registered resource with its tags and policy (DeregisterResource)."""
    with api_errors():
        gatehouse_client(ctx).deregister_resource(ResourceArn=arn)
    out.print(f"deregistered {arn}")


@resource_app.command("tag")
def tag_command(ctx: typer.Context, arn: Arn, tag: Annotated[list[str], typer.Argument(help="KEY=VALUE ...")],
                endpoint_url: endpoint_option = DEFAULT_ENDPOINT, profile: profile_option = None) -> None:
    """Add or replace tags (TagResource)."""
    with api_errors():
        gatehouse_client(ctx).tag_resource(ResourceArn=arn, Tags=tags_from_options(tag))
    out.print(f"tagged {arn}")


@resource_app.command("untag")
def untag_command(ctx: typer.Context, arn: Arn, keys: Annotated[list[str], typer.Argument(help="Tag keys.")],
                  endpoint_url: endpoint_option = DEFAULT_ENDPOINT, profile: profile_option = None) -> None:
    """Remove tags by key (UntagResource)."""
    with api_errors():
        gatehouse_client(ctx).untag_resource(ResourceArn=arn, TagKeys=keys)
    out.print(f"untagged {arn}")
