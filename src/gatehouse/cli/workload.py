"""`gatehouse workload ...`: register running programs under an instance profile and serve them role credentials
with no stored key (services/workloads.py). Every command is a client of a running server, like the `aws` CLI:
`--endpoint-url` and the standard AWS credential chain (cli/remote.py), Gatehouse's own `gatehouse` service.

`serve-metadata ID` is an IMDSv2-compatible listener bound to one workload (wire/instance_metadata.py). It is never
given the workload's token: it obtains the workload's sessions with the signed GetWorkloadCredentials, so the
credentials it runs with must be allowed `gatehouse:GetWorkloadCredentials` on the workload and `iam:PassRole` on
its role (whoever could register the workload). Programs reaching the listener get only the role session.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gatehouse.cli.remote import (
    DEFAULT_ENDPOINT,
    Output,
    api_errors,
    endpoint_option,
    gatehouse_client,
    output_option,
    print_json,
    profile_option,
    tags_from_options,
)

if TYPE_CHECKING:
    from gatehouse.wire.instance_metadata import RoleCredentials

workload_app = typer.Typer(no_args_is_help=True, help=(
    "Workloads: programs that get role credentials from Gatehouse with no stored keys."))
out = Console(highlight=False, soft_wrap=True)

# Refresh the listener's set when less than this remains, and at least this often (tag changes, revocation).
_REFRESH_BEFORE = dt.timedelta(minutes=16)
_REFRESH_EVERY = dt.timedelta(minutes=5)
_RETRY_AFTER = 10.0


@workload_app.command("register")
def register_command(
    ctx: typer.Context,
    instance_profile: Annotated[str, typer.Option("--instance-profile", help="The instance profile whose role the "
                                                  "workload gets sessions of.")],
    name: Annotated[str | None, typer.Option("--name", help="The workload id (also the role session's name); "
                                             "generated when absent.")] = None,
    ttl: Annotated[int | None, typer.Option("--ttl", help="Seconds each session lasts (900 to the role's "
                                            "MaxSessionDuration; default 3600).")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE, repeatable: the sessions' tags "
                                                  "(aws:PrincipalTag/KEY).")] = None,
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
    output: output_option = Output.table,
) -> None:
    """Register a workload; print its id, its token (shown this once) and its credentials URI.

    Give the program AWS_CONTAINER_CREDENTIALS_FULL_URI=<CredentialsUri> and AWS_CONTAINER_AUTHORIZATION_TOKEN=<Token>
    (or _FILE): every AWS SDK then finds role credentials by itself.

    Examples:

      gatehouse workload register --instance-profile web --name web-1 --output json

      gatehouse workload register --instance-profile batch --ttl 900 --tag team=data
    """
    params: dict[str, Any] = {"InstanceProfileName": instance_profile}
    if name:
        params["WorkloadId"] = name
    if ttl is not None:
        params["TtlSeconds"] = ttl
    if tag:
        params["Tags"] = tags_from_options(tag)
    with api_errors():
        answer = gatehouse_client(ctx).register_workload(**params)
    shown = {k: answer[k] for k in ("WorkloadId", "Token", "CredentialsUri")}
    if output is Output.json:
        print_json(shown)
        return
    table = Table(show_header=False, box=None)
    for key, value in shown.items():
        table.add_row(key, value)
    out.print(table)
    out.print("The token is shown once: keep it where only the workload reads it.")


@workload_app.command("list")
def list_command(
    ctx: typer.Context,
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
    output: output_option = Output.table,
) -> None:
    """List the account's workloads (tokens are never shown: only their hashes are kept).

    Examples:

      gatehouse workload list

      gatehouse workload list --output json
    """
    with api_errors():
        found = gatehouse_client(ctx).list_workloads().get("Workloads", [])
    if output is Output.json:
        print_json(found)
        return
    table = Table("WorkloadId", "InstanceProfile", "Role", "TtlSeconds", "Status", "Created", "Tags")
    for w in found:
        tags = ", ".join(f"{t['Key']}={t['Value']}" for t in w.get("Tags", []))
        created = w.get("CreateDate")
        table.add_row(w["WorkloadId"], w.get("InstanceProfileName", ""), w.get("RoleName", "-"),
                      str(w.get("TtlSeconds", "")), w.get("Status", ""),
                      created.isoformat() if hasattr(created, "isoformat") else str(created or ""), tags)
    out.print(table)


@workload_app.command("get")
def get_command(
    ctx: typer.Context,
    workload_id: Annotated[str, typer.Argument(help="The workload.")],
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
    output: output_option = Output.table,
) -> None:
    """Describe one workload (never its token).

    Examples:

      gatehouse workload get web-1 --output json
    """
    with api_errors():
        found = gatehouse_client(ctx).get_workload(WorkloadId=workload_id)["Workload"]
    if output is Output.json:
        print_json(found)
        return
    table = Table(show_header=False, box=None)
    for key, value in found.items():
        if key == "Tags":
            value = ", ".join(f"{t['Key']}={t['Value']}" for t in value)
        table.add_row(key, value.isoformat() if hasattr(value, "isoformat") else str(value))
    out.print(table)


@workload_app.command("revoke")
def revoke_command(
    ctx: typer.Context,
    workload_id: Annotated[str, typer.Argument(help="The workload to revoke.")],
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Revoke a workload: its token gets nothing more and its sessions stop working at once.

    Examples:

      gatehouse workload revoke web-1
    """
    with api_errors():
        gatehouse_client(ctx).revoke_workload(WorkloadId=workload_id)
    out.print(f"revoked {workload_id}")


@workload_app.command("tag")
def tag_command(
    ctx: typer.Context,
    workload_id: Annotated[str, typer.Argument(help="The workload.")],
    tags: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs.")],
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Add or replace tags of a workload (its next session carries them as session tags).

    Examples:

      gatehouse workload tag web-1 team=payments env=prod
    """
    with api_errors():
        gatehouse_client(ctx).tag_workload(WorkloadId=workload_id, Tags=tags_from_options(tags))


@workload_app.command("untag")
def untag_command(
    ctx: typer.Context,
    workload_id: Annotated[str, typer.Argument(help="The workload.")],
    keys: Annotated[list[str], typer.Argument(help="Tag keys to remove.")],
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Remove tags from a workload.

    Examples:

      gatehouse workload untag web-1 env
    """
    with api_errors():
        gatehouse_client(ctx).untag_workload(WorkloadId=workload_id, TagKeys=keys)


class _Fetcher:
    """Keeps the workload's current session in memory: fetched before the listener opens, refreshed in the
    background; a refusal (revoked, role removed) empties it, so the listener answers 404 as EC2 does with no
    role."""

    def __init__(self, api: Any, workload_id: str) -> None:
        self.api = api
        self.workload_id = workload_id
        self.current: RoleCredentials | None = None
        self._stop = threading.Event()

    def fetch(self) -> None:
        from botocore.exceptions import ClientError

        from gatehouse.wire.instance_metadata import RoleCredentials

        try:
            answer = self.api.get_workload_credentials(WorkloadId=self.workload_id)
        except ClientError:
            self.current = None
            raise
        creds = answer["Credentials"]
        self.current = RoleCredentials(
            role_name=answer["RoleArn"].rsplit("/", 1)[-1], access_key_id=creds["AccessKeyId"],
            secret_access_key=creds["SecretAccessKey"], token=creds["SessionToken"],
            expiration=creds["Expiration"], last_updated=dt.datetime.now(dt.UTC))

    def _wait(self) -> float:
        current = self.current
        if current is None:
            return _RETRY_AFTER
        due = min(current.expiration - _REFRESH_BEFORE, current.last_updated + _REFRESH_EVERY)
        return max(_RETRY_AFTER, (due - dt.datetime.now(dt.UTC)).total_seconds())

    def run(self) -> None:
        while not self._stop.wait(self._wait()):
            try:
                self.fetch()
            except Exception as e:  # the server is away or refuses: keep trying, say why
                Console(stderr=True).print(f"gatehouse: cannot refresh credentials: {e}", markup=False)

    def stop(self) -> None:
        self._stop.set()


@workload_app.command("serve-metadata")
def serve_metadata_command(
    ctx: typer.Context,
    workload_id: Annotated[str, typer.Argument(help="The registered workload whose sessions are served.")],
    port: Annotated[int, typer.Option("--port", help="The port to listen on.")],
    host: Annotated[str, typer.Option("--host", help="The address to listen on (loopback by default; only "
                                      "programs that may act as the workload must reach it).")] = "127.0.0.1",
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Serve the workload's role credentials as an IMDSv2-compatible instance metadata endpoint.

    Programs find it with AWS_EC2_METADATA_SERVICE_ENDPOINT=http://HOST:PORT. The listener obtains the workload's
    sessions with GetWorkloadCredentials: the credentials it runs with must be allowed
    gatehouse:GetWorkloadCredentials on the workload and iam:PassRole on its role.

    Examples:

      gatehouse workload serve-metadata web-1 --port 8169

      gatehouse workload serve-metadata web-1 --host 10.0.0.5 --port 80 --endpoint-url https://gatehouse.example
    """
    import uvicorn

    from gatehouse.wire.instance_metadata import metadata_app

    fetcher = _Fetcher(gatehouse_client(ctx), workload_id)
    with api_errors():
        fetcher.fetch()
    refresher = threading.Thread(target=fetcher.run, name="gatehouse-metadata-refresh", daemon=True)
    refresher.start()
    try:
        uvicorn.run(metadata_app(lambda: fetcher.current), host=host, port=port, log_level="warning",
                    access_log=False, proxy_headers=False)
    finally:
        fetcher.stop()
