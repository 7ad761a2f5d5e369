"""`gatehouse user offboard NAME`: remove everything AWS makes you remove before DeleteUser, then the user.

The plan is read first with ordinary IAM calls and shown; `--dry-run` stops there. Then one call of Gatehouse's own
operation, OffboardUser (`gatehouse` service, services/iam/offboarding.py), does every step in one transaction:
each step is authorized as the IAM operation it is and recorded in the audit trail as that operation's event
(DeleteAccessKey, DeactivateMFADevice, …, DeleteUser), and a step that fails undoes them all.

Against a server without OffboardUser (AWS itself), or with `--step-by-step`, the steps are separate IAM calls in
the order AWS documents, the user last: a failure part-way leaves the user in place with less attached, and
running the command again finishes the job (a step whose thing is already gone counts as done).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gatehouse.cli.remote import DEFAULT_ENDPOINT, client
from gatehouse.cli.remote import endpoint_option as EndpointUrl
from gatehouse.cli.remote import profile_option as Profile

user_app = typer.Typer(no_args_is_help=True,
                       help="Operator tasks on IAM users.\n\nExample: gatehouse user offboard alice --dry-run")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Output = Annotated[str, typer.Option("--output", "--format", "-o", help="table or json.")]


class ApiError(Exception):
    """An AWS error answered by the server, or no server at all: printed as one line, exit 1."""


def api_client(service: str, endpoint_url: str, profile: str | None, models: str | None = None) -> Any:
    """A botocore client for the server (`remote.client`: credentials from the standard AWS chain)."""
    return client(service, endpoint_url=endpoint_url, profile=profile, models=models)


def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """One API call; AWS errors and connection failures become ApiError (its `code` is the AWS error code)."""
    import botocore.exceptions

    try:
        result: dict[str, Any] = getattr(client, operation)(**params)
        return result
    except botocore.exceptions.ClientError as e:
        error = e.response.get("Error", {})
        exc = ApiError(f"{error.get('Code')}: {error.get('Message')}")
        exc.code = error.get("Code")  # type: ignore[attr-defined]
        raise exc from None
    except botocore.exceptions.NoCredentialsError:
        raise ApiError("no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile") from None
    except botocore.exceptions.BotoCoreError as e:
        raise ApiError(str(e)) from None


def pages(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item of a paginated IAM list (Marker/IsTruncated)."""
    items: list[Any] = []
    while True:
        page = call(client, operation, **params)
        items.extend(page.get(key) or [])
        if not page.get("IsTruncated") or not page.get("Marker"):
            return items
        params["Marker"] = page["Marker"]


@dataclass(frozen=True)
class Step:
    """One IAM call of the plan: what it removes, and the call itself."""

    operation: str  # the AWS operation name, as the audit trail records it
    target: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def plan(iam: Any, name: str) -> list[Step]:
    """What must go, in AWS's documented order for deleting a user (the user itself last)."""
    user = {"UserName": name}
    steps: list[Step] = []
    try:
        call(iam, "get_login_profile", **user)
        steps.append(Step("DeleteLoginProfile", "console password", "delete_login_profile", user))
    except ApiError as e:
        if getattr(e, "code", None) != "NoSuchEntity":
            raise
    for k in pages(iam, "list_access_keys", "AccessKeyMetadata", **user):
        steps.append(Step("DeleteAccessKey", f"access key {k['AccessKeyId']}", "delete_access_key",
                          {**user, "AccessKeyId": k["AccessKeyId"]}))
    for c in pages(iam, "list_signing_certificates", "Certificates", **user):
        steps.append(Step("DeleteSigningCertificate", f"signing certificate {c['CertificateId']}",
                          "delete_signing_certificate", {**user, "CertificateId": c["CertificateId"]}))
    for k in pages(iam, "list_ssh_public_keys", "SSHPublicKeys", **user):
        steps.append(Step("DeleteSSHPublicKey", f"SSH key {k['SSHPublicKeyId']}", "delete_ssh_public_key",
                          {**user, "SSHPublicKeyId": k["SSHPublicKeyId"]}))
    creds = call(iam, "list_service_specific_credentials", **user).get("ServiceSpecificCredentials") or []
    for c in creds:
        steps.append(Step("DeleteServiceSpecificCredential",
                          f"{c['ServiceName']} credential {c['ServiceSpecificCredentialId']}",
                          "delete_service_specific_credential",
                          {**user, "ServiceSpecificCredentialId": c["ServiceSpecificCredentialId"]}))
    for d in pages(iam, "list_mfa_devices", "MFADevices", **user):
        serial = d["SerialNumber"]
        steps.append(Step("DeactivateMFADevice", f"MFA device {serial}", "deactivate_mfa_device",
                          {**user, "SerialNumber": serial}))
        if ":mfa/" in serial:  # a virtual device (hardware serials are not ARNs): AWS keeps it until deleted
            steps.append(Step("DeleteVirtualMFADevice", f"virtual MFA device {serial}", "delete_virtual_mfa_device",
                              {"SerialNumber": serial}))
    for p in pages(iam, "list_user_policies", "PolicyNames", **user):
        steps.append(Step("DeleteUserPolicy", f"inline policy {p}", "delete_user_policy", {**user, "PolicyName": p}))
    for p in pages(iam, "list_attached_user_policies", "AttachedPolicies", **user):
        steps.append(Step("DetachUserPolicy", f"managed policy {p['PolicyArn']}", "detach_user_policy",
                          {**user, "PolicyArn": p["PolicyArn"]}))
    for g in pages(iam, "list_groups_for_user", "Groups", **user):
        steps.append(Step("RemoveUserFromGroup", f"group {g['GroupName']}", "remove_user_from_group",
                          {**user, "GroupName": g["GroupName"]}))
    steps.append(Step("DeleteUser", f"user {name}", "delete_user", user))
    return steps


def run_steps(iam: Any, steps: list[Step], done: Callable[[Step, str], None]) -> None:
    """Each step in order; a thing already gone (NoSuchEntity) counts as done, anything else stops the run."""
    for step in steps:
        try:
            call(iam, step.method, **step.params)
            done(step, "removed")
        except ApiError as e:
            if getattr(e, "code", None) != "NoSuchEntity" or step.operation == "DeleteUser":
                raise
            done(step, "already gone")


def offboard_atomically(endpoint_url: str, profile: str | None, name: str) -> list[dict[str, str]] | None:
    """One OffboardUser call; None when the server does not know it (then the caller goes step by step)."""
    from gatehouse.wire.service_models import MODELS_DIR

    client = api_client("gatehouse", endpoint_url, profile, models=str(MODELS_DIR))
    try:
        result = call(client, "offboard_user", UserName=name)
    except ApiError as e:
        if getattr(e, "code", None) in ("UnknownOperationException", "InvalidAction", "NotFound",
                                        "UnrecognizedClientException"):
            return None
        raise
    return [{"Operation": s["Operation"], "Target": s["Target"], "Outcome": "removed"} for s in result["Steps"]]


def offboard_command(
    name: Annotated[str, typer.Argument(help="The IAM user who leaves.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the steps; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    step_by_step: Annotated[bool, typer.Option(
        "--step-by-step", help="Separate IAM calls, not one transaction (for servers without OffboardUser).")] = False,
    endpoint_url: EndpointUrl = DEFAULT_ENDPOINT,
    profile: Profile = None,
    output: Output = "table",
) -> None:
    """Remove a user and everything that blocks its deletion: login profile, access keys, signing certificates,
    SSH keys, service-specific credentials, MFA devices (deactivated; virtual ones deleted), inline and attached
    policies, group memberships; then the user. In one transaction (Gatehouse's OffboardUser), each step recorded
    in the audit trail as its IAM operation; --step-by-step (or a server without OffboardUser) makes separate calls.

    Examples:

      gatehouse user offboard alice --dry-run

      gatehouse user offboard alice --yes --endpoint-url http://127.0.0.1:4599
    """
    if output not in ("table", "json"):
        err.print("gatehouse: --output must be table or json")
        raise typer.Exit(2)
    try:
        iam = api_client("iam", endpoint_url, profile)
        steps = plan(iam, name)
    except ApiError as e:
        err.print(f"gatehouse: {e}")
        raise typer.Exit(1) from None
    if dry_run:
        if output == "json":
            typer.echo(json.dumps({"UserName": name, "DryRun": True,
                                   "Steps": [{"Operation": s.operation, "Target": s.target} for s in steps]}, indent=2))
        else:
            table = Table(title=f"Offboarding {name} would make {len(steps)} call(s) (dry run: nothing changed)")
            table.add_column("#", justify="right")
            table.add_column("Operation")
            table.add_column("Removes")
            for i, s in enumerate(steps, 1):
                table.add_row(str(i), s.operation, s.target)
            out.print(table)
        return
    if not yes:
        typer.confirm(f"Remove user {name} and {len(steps) - 1} thing(s) attached to it?", abort=True, err=True)
    results: list[dict[str, str]] = []

    def done(step: Step, outcome: str) -> None:
        results.append({"Operation": step.operation, "Target": step.target, "Outcome": outcome})
        if output == "table":
            out.print(f"{step.operation:<32} {step.target}: {outcome}")

    try:
        atomic = None if step_by_step else offboard_atomically(endpoint_url, profile, name)
    except ApiError as e:
        err.print(f"gatehouse: nothing changed: {e}")
        if output == "json":
            typer.echo(json.dumps({"UserName": name, "Deleted": False, "Steps": [], "Error": str(e)}, indent=2))
        raise typer.Exit(1) from None
    if atomic is not None:
        for result in atomic:
            done(Step(result["Operation"], result["Target"], ""), result["Outcome"])
    else:
        try:
            run_steps(iam, steps, done)
        except ApiError as e:
            err.print(f"gatehouse: stopped: {e}; the user is kept with what is left (run again to finish)")
            if output == "json":
                typer.echo(json.dumps({"UserName": name, "Deleted": False, "Steps": results, "Error": str(e)},
                                      indent=2))
            raise typer.Exit(1) from None
    if output == "json":
        typer.echo(json.dumps({"UserName": name, "Deleted": True, "Steps": results}, indent=2))
    else:
        how = "separate calls" if atomic is None else "one transaction"
        out.print(f"User {name} offboarded: {len(results)} step(s) in {how}, each in the audit trail.")


user_app.command("offboard")(offboard_command)
