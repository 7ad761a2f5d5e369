"""`gatehouse import FILE` and `gatehouse export FILE`: an account's IAM in the format `aws iam
get-account-authorization-details` prints, so an operator can bring a real AWS account in (to test or analyze it
offline) and take it out again.

Everything goes through the server's API (as the `aws` CLI would), so imports are authorized and audited like any
other change. Import is idempotent: an entity that already exists is brought to the file's state (tags, boundary,
inline and attached policies, memberships) and nothing is created twice; identifiers and dates are the server's.
Export holds no secret: the authorization details have none (no access key, password or MFA seed).
"""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gatehouse.cli.remote import (
    DEFAULT_ENDPOINT,
    Output,
    api_errors,
    client,
    endpoint_option,
    fail,
    output_option,
    print_json,
    profile_option,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

File = Annotated[Path, typer.Argument(help="The authorization-details JSON file.", dir_okay=False)]
AWS_MANAGED = ":iam::aws:policy/"
MAX_VERSIONS = 5


def document(value: Any) -> Any:
    """A policy document as a JSON value, whether the file holds it parsed (the aws CLI) or URL-encoded (the API)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return json.loads(urllib.parse.unquote(value))
    return value


def text(value: Any) -> str:
    return json.dumps(document(value))


def code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


class Importer:
    """Brings the server to a file's state, one entity at a time, counting what it created, updated or left."""

    def __init__(self, iam: Any) -> None:
        self.iam = iam
        self.counts: Counter[tuple[str, str]] = Counter()
        self.errors: list[str] = []
        self.arns: dict[str, str] = {}  # a policy ARN of the file -> its ARN here (another account id)

    def arn(self, file_arn: str) -> str:
        return self.arns.get(file_arn, file_arn)

    def note(self, kind: str, changed: Iterable[bool], created: bool = False) -> None:
        self.counts[(kind, "created" if created else "updated" if any(list(changed)) else "unchanged")] += 1

    # --- managed policies ----------------------------------------------------------------------------------

    def policy(self, p: dict[str, Any]) -> None:
        versions = sorted(p.get("PolicyVersionList") or [], key=lambda v: int(str(v["VersionId"]).lstrip("v")))
        if not versions:
            raise ValueError(f"policy {p.get('PolicyName')} has no PolicyVersionList")
        default = p.get("DefaultVersionId") or next(
            (v["VersionId"] for v in versions if v.get("IsDefaultVersion")), versions[-1]["VersionId"])
        try:
            here = self.iam.get_policy(PolicyArn=p["Arn"])["Policy"]
        except ClientError as e:
            if code(e) != "NoSuchEntity":
                raise
            here = None
        if here is None:
            self._create_policy(p, versions, default)
            return
        self.arns[p["Arn"]] = here["Arn"]
        tagged = self._policy_tags(here["Arn"], p.get("Tags") or [])
        current = self.iam.list_policy_versions(PolicyArn=here["Arn"])["Versions"]
        have = {v["VersionId"]: v for v in current}
        want = {v["VersionId"]: v for v in versions}
        same = set(have) == set(want) and all(
            document(self.iam.get_policy_version(PolicyArn=here["Arn"], VersionId=vid)["PolicyVersion"]["Document"])
            == document(want[vid]["Document"]) for vid in want)
        changed = False
        if not same:  # version ids cannot be chosen through the API: make the file's default document the default
            doc = document(want[default]["Document"])
            now = self.iam.get_policy_version(PolicyArn=here["Arn"], VersionId=here["DefaultVersionId"])
            if document(now["PolicyVersion"]["Document"]) != doc:
                self._make_room(here["Arn"], current)
                self.iam.create_policy_version(PolicyArn=here["Arn"], PolicyDocument=json.dumps(doc),
                                               SetAsDefault=True)
                changed = True
        elif here["DefaultVersionId"] != default:
            self.iam.set_default_policy_version(PolicyArn=here["Arn"], VersionId=default)
            changed = True
        self.note("policies", [changed, tagged])

    def _policy_tags(self, arn: str, tags: list[dict[str, str]]) -> bool:
        if not tags:
            return False
        now = {t["Key"]: t["Value"] for t in self.iam.list_policy_tags(PolicyArn=arn, MaxItems=1000)["Tags"]}
        if all(now.get(t["Key"]) == t["Value"] for t in tags):
            return False
        self.iam.tag_policy(PolicyArn=arn, Tags=tags)
        return True

    def _make_room(self, arn: str, versions: list[dict[str, Any]]) -> None:
        if len(versions) >= MAX_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]),
                         key=lambda v: int(str(v["VersionId"]).lstrip("v")))
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])

    def _create_policy(self, p: dict[str, Any], versions: list[dict[str, Any]], default: str) -> None:
        """Create v1 .. vN in order (the API numbers versions itself), deleting the numbers the file lacks (AWS
        deleted them there), then set the file's default."""
        want = {v["VersionId"]: v for v in versions}
        first = document(versions[0]["Document"])
        extra = {"Description": p["Description"]} if p.get("Description") else {}
        if p.get("Tags"):
            extra["Tags"] = p["Tags"]
        made = self.iam.create_policy(PolicyName=p["PolicyName"], Path=p.get("Path") or "/",
                                      PolicyDocument=json.dumps(document(want.get("v1", versions[0])["Document"])),
                                      **extra)["Policy"]
        arn = made["Arn"]
        self.arns[p["Arn"]] = arn
        last = int(str(versions[-1]["VersionId"]).lstrip("v"))
        previous = "v1"
        for n in range(2, last + 1):
            vid = f"v{n}"
            doc = document(want[vid]["Document"]) if vid in want else first
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
            if previous not in want:
                self.iam.delete_policy_version(PolicyArn=arn, VersionId=previous)
            previous = vid
        if default != previous:
            self.iam.set_default_policy_version(PolicyArn=arn, VersionId=default)
        self.note("policies", [], created=True)

    # --- shared parts of users, groups and roles -----------------------------------------------------------

    def _inline(self, kind: str, name: str, policies: list[dict[str, Any]], fresh: bool) -> list[bool]:
        """`fresh`: the entity was just created, so it has nothing yet (no need to ask)."""
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        have = set() if fresh or not policies else set(
            getattr(self.iam, f"list_{kind}_policies")(**{key: name}, MaxItems=1000)["PolicyNames"])
        changed = []
        for p in policies:
            doc = document(p["PolicyDocument"])
            if p["PolicyName"] in have:
                now = getattr(self.iam, f"get_{kind}_policy")(**{key: name}, PolicyName=p["PolicyName"])
                if document(now["PolicyDocument"]) == doc:
                    continue
            getattr(self.iam, f"put_{kind}_policy")(**{key: name}, PolicyName=p["PolicyName"],
                                                   PolicyDocument=json.dumps(doc))
            changed.append(True)
        return changed

    def _attached(self, kind: str, name: str, policies: list[dict[str, Any]], fresh: bool) -> list[bool]:
        key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        have = set() if fresh or not policies else {a["PolicyArn"] for a in getattr(
            self.iam, f"list_attached_{kind}_policies")(**{key: name}, MaxItems=1000)["AttachedPolicies"]}
        changed = []
        for p in policies:
            arn = self.arn(p["PolicyArn"])
            if arn not in have:
                getattr(self.iam, f"attach_{kind}_policy")(**{key: name}, PolicyArn=arn)
                changed.append(True)
        return changed

    def _tags(self, kind: str, name: str, tags: list[dict[str, str]], have: list[dict[str, str]]) -> list[bool]:
        now = {t["Key"]: t["Value"] for t in have}
        if all(now.get(t["Key"]) == t["Value"] for t in tags):
            return []
        key = {"user": "UserName", "role": "RoleName"}[kind]
        getattr(self.iam, f"tag_{kind}")(**{key: name}, Tags=tags)
        return [True]

    def _boundary(self, kind: str, name: str, entity: dict[str, Any], here: dict[str, Any]) -> list[bool]:
        arn = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if not arn or (here.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") == self.arn(arn):
            return []
        key = {"user": "UserName", "role": "RoleName"}[kind]
        getattr(self.iam, f"put_{kind}_permissions_boundary")(**{key: name}, PermissionsBoundary=self.arn(arn))
        return [True]

    def _existing(self, fn: Callable[..., dict[str, Any]], field: str, **kw: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = fn(**kw)[field]
            return found
        except ClientError as e:
            if code(e) != "NoSuchEntity":
                raise
            return None

    # --- entities --------------------------------------------------------------------------------------------

    def group(self, g: dict[str, Any]) -> None:
        name = g["GroupName"]
        here = self._existing(self.iam.get_group, "Group", GroupName=name)
        if here is None:
            self.iam.create_group(GroupName=name, Path=g.get("Path") or "/")
        changed = self._inline("group", name, g.get("GroupPolicyList") or [], here is None)
        changed += self._attached("group", name, g.get("AttachedManagedPolicies") or [], here is None)
        self.note("groups", changed, created=here is None)

    def role(self, r: dict[str, Any]) -> None:
        name = r["RoleName"]
        here = self._existing(self.iam.get_role, "Role", RoleName=name)
        trust = document(r["AssumeRolePolicyDocument"])
        changed: list[bool] = []
        if here is None:
            extra: dict[str, Any] = {"Tags": r["Tags"]} if r.get("Tags") else {}
            extra.update({k: r[k] for k in ("Description", "MaxSessionDuration") if r.get(k)})
            bnd = (r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if bnd:
                extra["PermissionsBoundary"] = self.arn(bnd)
            self.iam.create_role(RoleName=name, Path=r.get("Path") or "/", AssumeRolePolicyDocument=json.dumps(trust),
                                 **extra)
        else:
            if document(here["AssumeRolePolicyDocument"]) != trust:
                self.iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
                changed.append(True)
            settings = {k: r[k] for k in ("Description", "MaxSessionDuration") if r.get(k) and r[k] != here.get(k)}
            if settings:
                self.iam.update_role(RoleName=name, **settings)
                changed.append(True)
            changed += self._tags("role", name, r.get("Tags") or [], here.get("Tags") or [])
            changed += self._boundary("role", name, r, here)
        changed += self._inline("role", name, r.get("RolePolicyList") or [], here is None)
        changed += self._attached("role", name, r.get("AttachedManagedPolicies") or [], here is None)
        for ip in r.get("InstanceProfileList") or []:
            changed += self._profile(ip, name)
        self.note("roles", changed, created=here is None)

    def _profile(self, ip: dict[str, Any], role: str) -> list[bool]:
        name = ip["InstanceProfileName"]
        here = self._existing(self.iam.get_instance_profile, "InstanceProfile", InstanceProfileName=name)
        if here is None:
            extra = {"Tags": ip["Tags"]} if ip.get("Tags") else {}
            self.iam.create_instance_profile(InstanceProfileName=name, Path=ip.get("Path") or "/", **extra)
            self.counts[("instance profiles", "created")] += 1
        if here is None or role not in {x["RoleName"] for x in here.get("Roles") or []}:
            self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
            if here is not None:
                self.counts[("instance profiles", "updated")] += 1
            return [True]
        self.counts[("instance profiles", "unchanged")] += 1
        return []

    def user(self, u: dict[str, Any]) -> None:
        name = u["UserName"]
        here = self._existing(self.iam.get_user, "User", UserName=name)
        changed: list[bool] = []
        if here is None:
            extra: dict[str, Any] = {"Tags": u["Tags"]} if u.get("Tags") else {}
            bnd = (u.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if bnd:
                extra["PermissionsBoundary"] = self.arn(bnd)
            self.iam.create_user(UserName=name, Path=u.get("Path") or "/", **extra)
        else:
            changed += self._tags("user", name, u.get("Tags") or [], here.get("Tags") or [])
            changed += self._boundary("user", name, u, here)
        changed += self._inline("user", name, u.get("UserPolicyList") or [], here is None)
        changed += self._attached("user", name, u.get("AttachedManagedPolicies") or [], here is None)
        groups = set() if here is None or not u.get("GroupList") else {
            g["GroupName"] for g in self.iam.list_groups_for_user(UserName=name, MaxItems=1000)["Groups"]}
        for g in u.get("GroupList") or []:
            if g not in groups:
                self.iam.add_user_to_group(GroupName=g, UserName=name)
                changed.append(True)
        self.note("users", changed, created=here is None)


def _load(file: Path) -> dict[str, Any]:
    try:
        details = json.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        fail(f"cannot read {file}: {e.strerror}", 2)
    except ValueError as e:
        fail(f"{file} is not JSON: {e}", 2)
    if not isinstance(details, dict) or not any(
            k in details for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")):
        fail(f"{file} is not the output of `aws iam get-account-authorization-details`", 2)
    return details


def import_command(
    ctx: typer.Context,
    file: File,
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
    output: output_option = Output.table,
) -> None:
    """Load an account's IAM from the JSON of `aws iam get-account-authorization-details`: managed policies with
    all their versions, groups, roles with their instance profiles, users with their groups, inline and attached
    policies, permissions boundaries and tags. Idempotent: importing the same file twice changes nothing.

    Examples:

      aws iam get-account-authorization-details > account.json

      gatehouse import account.json

      gatehouse import account.json --endpoint-url http://gatehouse.internal:4599 --profile gatehouse-admin
    """
    details = _load(file)
    iam = client("iam", ctx)
    importer = Importer(iam)
    policies = [p for p in details.get("Policies") or [] if AWS_MANAGED not in str(p.get("Arn"))]
    steps: list[tuple[str, str, Callable[[dict[str, Any]], None], dict[str, Any]]] = [
        *(("policy", p.get("PolicyName", "?"), importer.policy, p) for p in policies),
        *(("group", g.get("GroupName", "?"), importer.group, g) for g in details.get("GroupDetailList") or []),
        *(("role", r.get("RoleName", "?"), importer.role, r) for r in details.get("RoleDetailList") or []),
        *(("user", u.get("UserName", "?"), importer.user, u) for u in details.get("UserDetailList") or []),
    ]
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
    with api_errors(), progress:
        task = progress.add_task("importing", total=len(steps))
        for kind, name, step, entity in steps:
            progress.update(task, description=f"{kind} {name}")
            try:
                step(entity)
            except ClientError as e:
                error = e.response.get("Error", {})
                importer.errors.append(f"{kind} {name}: {error.get('Code')}: {error.get('Message')}")
            except (KeyError, TypeError, ValueError) as e:
                importer.errors.append(f"{kind} {name}: malformed entry ({type(e).__name__}: {e})")
            progress.advance(task)
    _summary(importer, output)
    if importer.errors:
        raise typer.Exit(1)


def _summary(importer: Importer, output: Output) -> None:
    kinds = ["policies", "groups", "roles", "instance profiles", "users"]
    if output is Output.json:
        print_json({"Summary": {k: {s: importer.counts[(k, s)] for s in ("created", "updated", "unchanged")}
                                for k in kinds}, "Errors": importer.errors})
        return
    table = Table(title="gatehouse import")
    for column in ("", "created", "updated", "unchanged"):
        table.add_column(column, justify="left" if not column else "right")
    for k in kinds:
        table.add_row(k, *(str(importer.counts[(k, s)]) for s in ("created", "updated", "unchanged")))
    out.print(table)
    for line in importer.errors[:20]:
        err.print(f"gatehouse: {line}", markup=False)
    if len(importer.errors) > 20:
        err.print(f"gatehouse: ... and {len(importer.errors) - 20} more errors")


def export_details(iam: Any) -> dict[str, Any]:
    """GetAccountAuthorizationDetails, every page, in the shape the aws CLI prints."""
    details: dict[str, list[Any]] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key, items in details.items():
            items.extend(page.get(key) or [])
    # What AWS's format lacks and a lossless round trip needs: tags of policies and instance profiles, the role's
    # description and maximum session duration (extra keys, which `aws` users can ignore and `import` reads).
    for p in details["Policies"]:
        if AWS_MANAGED not in p["Arn"]:
            tags = iam.list_policy_tags(PolicyArn=p["Arn"], MaxItems=1000).get("Tags")
            if tags:
                p["Tags"] = tags
    for r in details["RoleDetailList"]:
        role = iam.get_role(RoleName=r["RoleName"])["Role"]
        r.update({k: role[k] for k in ("Description", "MaxSessionDuration") if role.get(k)})
        for ip in r.get("InstanceProfileList") or []:
            tags = iam.list_instance_profile_tags(InstanceProfileName=ip["InstanceProfileName"],
                                                  MaxItems=1000).get("Tags")
            if tags:
                ip["Tags"] = tags
    return details


def export_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to write the JSON ('-' for standard output).",
                                         dir_okay=False)],
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Write the account's IAM as `aws iam get-account-authorization-details` prints it (users, groups, roles with
    instance profiles, managed policies with every version, inline policies, boundaries, tags), which `gatehouse
    import` reads back. It holds no secret: no access key, password or MFA seed.

    Examples:

      gatehouse export account.json

      gatehouse export - --endpoint-url http://127.0.0.1:4599 | jq '.UserDetailList[].UserName'
    """
    with api_errors():
        details = export_details(client("iam", ctx))
    data = json.dumps(details, indent=4, ensure_ascii=False,
                      default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)) + "\n"
    if str(file) == "-":
        typer.echo(data, nl=False)
        return
    try:
        file.write_text(data, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {file}: {e.strerror}")
    counts = ", ".join(f"{len(v)} {k}" for k, v in (("users", details["UserDetailList"]),
                                                   ("groups", details["GroupDetailList"]),
                                                   ("roles", details["RoleDetailList"]),
                                                   ("policies", details["Policies"])))
    err.print(f"gatehouse: wrote {file}: {counts}", markup=False)
