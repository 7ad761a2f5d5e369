"""The operator CLI against a real development server: `gatehouse import`/`export` round trips a realistic
authorization-details file losslessly and idempotently; `whoami`; `login --write-profile`; the conventions
(--help with examples, --output json, no colour off a terminal, clear errors with exit codes)."""

from __future__ import annotations

import configparser
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import ACCOUNT
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e
WHEN = "2023-03-04T05:06:07+00:00"


def cli(ep: Endpoint, *args: str, key: str | None = None, secret: str | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`gatehouse ARGS` with the endpoint and credentials in the environment, as an operator would run it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GATEHOUSE_", "NO_COLOR", "FORCE_COLOR"))}
    full = {**base, "GATEHOUSE_ENDPOINT_URL": ep.url, "AWS_ACCESS_KEY_ID": key or ep.key,
            "AWS_SECRET_ACCESS_KEY": secret or ep.secret, "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "TERM": "xterm-256color", **(env or {})}
    return subprocess.run([sys.executable, "-m", "gatehouse", *args], capture_output=True, text=True, env=full,
                          input=stdin, timeout=300)


def doc(rng: random.Random, n: int = 0) -> dict[str, Any]:
    actions = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "dynamodb:Query", "ec2:Describe*"]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"S{i}", "Effect": rng.choice(["Allow", "Deny"]), "Action": rng.sample(actions, rng.randint(1, 3)),
         "Resource": rng.choice(["*", f"arn:aws:s3:::bucket-{i}/*"])} for i in range(n or rng.randint(1, 3))]}


def account_details(rng: random.Random) -> dict[str, Any]:
    """About 330 entities in the shape `aws iam get-account-authorization-details` prints, with version gaps (v2
    deleted in AWS), boundaries, tags (non-ASCII too), instance profiles and an AWS managed attachment."""
    policies = []
    for i in range(30):
        name = f"tp-{i:02d}"
        ids = [1, 3] if i == 0 else list(range(1, rng.randint(1, 5) + 1))
        default = rng.choice(ids)
        policies.append({
            "PolicyName": name, "PolicyId": f"ANPA{i:017d}", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/t/{name}",
            "Path": "/t/", "DefaultVersionId": f"v{default}", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True, "CreateDate": WHEN, "UpdateDate": WHEN,
            "PolicyVersionList": [{"Document": doc(rng), "VersionId": f"v{v}", "IsDefaultVersion": v == default,
                                   "CreateDate": WHEN} for v in reversed(ids)]})
    arns = [p["Arn"] for p in policies]

    def attached(k: int) -> list[dict[str, str]]:
        return [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in rng.sample(arns[3:], k)]

    def inline(owner: str, k: int) -> list[dict[str, Any]]:
        return [{"PolicyName": f"{owner}-in-{j}", "PolicyDocument": doc(rng)} for j in range(k)]

    def extras() -> dict[str, Any]:
        out: dict[str, Any] = {"Tags": [{"Key": f"k{j}", "Value": rng.choice(["a", "é", "cost 42"])}
                                        for j in range(rng.randint(0, 2))]}
        if rng.random() < 0.2:
            out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arns[0]}
        return out

    groups = [{"Path": "/", "GroupName": f"tg-{i:02d}", "GroupId": f"AGPA{i:017d}",
               "Arn": f"arn:aws:iam::{ACCOUNT}:group/tg-{i:02d}", "CreateDate": WHEN,
               "GroupPolicyList": inline(f"tg{i}", rng.randint(0, 2)),
               "AttachedManagedPolicies": attached(rng.randint(0, 2))}
              for i in range(20)]
    users = [{"Path": "/p/", "UserName": f"tu-{i:03d}", "UserId": f"AIDA{i:017d}",
              "Arn": f"arn:aws:iam::{ACCOUNT}:user/p/tu-{i:03d}", "CreateDate": WHEN,
              "UserPolicyList": inline(f"tu{i}", rng.randint(0, 1)),
              "GroupList": sorted(g["GroupName"] for g in rng.sample(groups, rng.randint(0, 3))),
              "AttachedManagedPolicies": attached(rng.randint(0, 2)) + (
                  [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
                  if i % 25 == 0 else []), **extras()} for i in range(200)]
    roles = []
    for i in range(40):
        name = f"tr-{i:02d}"
        role = {"Path": "/s/", "RoleName": name, "RoleId": f"AROA{i:017d}", "CreateDate": WHEN,
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/s/{name}",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "InstanceProfileList": [], "RolePolicyList": inline(name, rng.randint(0, 2)),
                "AttachedManagedPolicies": attached(rng.randint(0, 2)), "RoleLastUsed": {}, **extras()}
        if i < 10:
            role["InstanceProfileList"] = [{
                "Path": "/", "InstanceProfileName": f"tip-{i}", "InstanceProfileId": "AIPA0", "CreateDate": WHEN,
                "Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/tip-{i}",
                "Roles": [{"RoleName": name, "Path": "/s/"}]}]
        roles.append(role)
    roles[0].update(Description="the web tier", MaxSessionDuration=7200)  # extras of `gatehouse export`
    roles[0]["InstanceProfileList"][0]["Tags"] = [{"Key": "tier", "Value": "web"}]
    policies[1]["Tags"] = [{"Key": "owner", "Value": "platform"}]
    for p in policies:
        p["AttachmentCount"] = sum(a["PolicyArn"] == p["Arn"] for e in groups + users + roles
                                   for a in e["AttachedManagedPolicies"])
        p["PermissionsBoundaryUsageCount"] = sum((e.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
                                                 == p["Arn"] for e in users + roles)
    return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}


def essence(details: dict[str, Any], exact: bool = False) -> dict[str, Any]:
    """What a lossless round trip keeps (with `exact`, also the server's ids and dates)."""
    def d(v: Any) -> Any:
        return json.loads(v) if isinstance(v, str) else v

    def common(e: dict[str, Any], kind: str) -> dict[str, Any]:
        out = {"Path": e["Path"], "Arn": e["Arn"],
               "inline": {p["PolicyName"]: d(p["PolicyDocument"]) for p in e.get(f"{kind}PolicyList") or []},
               "attached": sorted(a["PolicyArn"] for a in e.get("AttachedManagedPolicies") or []),
               "boundary": (e.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
               "tags": {t["Key"]: t["Value"] for t in e.get("Tags") or []}}
        if exact:
            out.update(id=e[f"{kind}Id"], created=e["CreateDate"])
        return out

    return {
        "users": {u["UserName"]: {**common(u, "User"), "groups": sorted(u["GroupList"])}
                  for u in details["UserDetailList"]},
        "groups": {g["GroupName"]: common(g, "Group") for g in details["GroupDetailList"]},
        "roles": {r["RoleName"]: {**common(r, "Role"), "trust": d(r["AssumeRolePolicyDocument"]),
                                  "description": r.get("Description"), "max": r.get("MaxSessionDuration", 3600),
                                  "profiles": {p["InstanceProfileName"]: p.get("Tags")
                                               for p in r["InstanceProfileList"]}}
                  for r in details["RoleDetailList"]},
        "policies": {p["Arn"]: {"Path": p["Path"], "default": p["DefaultVersionId"], "n": p["AttachmentCount"],
                                "b": p["PermissionsBoundaryUsageCount"], "tags": p.get("Tags"),
                                "versions": {v["VersionId"]: d(v["Document"]) for v in p["PolicyVersionList"]},
                                **({"id": p["PolicyId"], "updated": p["UpdateDate"]} if exact else {})}
                     for p in details["Policies"] if ":aws:policy/" not in p["Arn"]},
    }


def test_import_export_round_trip_is_lossless_and_idempotent(gh: Endpoint, tmp_path: Path) -> None:
    details = account_details(random.Random(13))
    source = tmp_path / "in.json"
    source.write_text(json.dumps(details, indent=1, ensure_ascii=False), encoding="utf-8")
    first = cli(gh, "import", str(source), "--output", "json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)["Summary"]
    assert summary["users"]["created"] == 200 and summary["policies"]["created"] == 30
    assert summary["instance profiles"]["created"] == 10
    gh.client("iam").create_access_key(UserName="tu-000")
    out = cli(gh, "export", str(tmp_path / "out.json"))
    assert out.returncode == 0, out.stderr
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert essence(exported) == essence(details)
    assert "SecretAccessKey" not in (tmp_path / "out.json").read_text() and "AKIA" not in json.dumps(exported)
    assert [v["VersionId"] for v in next(p for p in exported["Policies"] if p["PolicyName"] == "tp-00")[
        "PolicyVersionList"]] in (["v3", "v1"], ["v1", "v3"])

    again = cli(gh, "import", str(tmp_path / "out.json"), "--output", "json")  # the export imports as a no-op
    assert again.returncode == 0, again.stderr
    assert all(c["created"] == c["updated"] == 0 for c in json.loads(again.stdout)["Summary"].values())
    second = cli(gh, "export", "-")
    assert second.returncode == 0, second.stderr
    assert essence(json.loads(second.stdout), exact=True) == essence(exported, exact=True)


def test_import_brings_an_existing_account_to_the_file(gh: Endpoint, tmp_path: Path) -> None:
    rng = random.Random(1)
    details = account_details(rng)
    small = {"UserDetailList": details["UserDetailList"][:3], "GroupDetailList": details["GroupDetailList"],
             "RoleDetailList": [], "Policies": details["Policies"]}
    iam = gh.client("iam")
    iam.create_user(UserName="tu-000", Path="/p/")
    iam.tag_user(UserName="tu-000", Tags=[{"Key": "k0", "Value": "old"}])
    small["UserDetailList"][0]["Tags"] = [{"Key": "k0", "Value": "new"}]
    path = tmp_path / "small.json"
    path.write_text(json.dumps(small), encoding="utf-8")
    r = cli(gh, "import", str(path), "--output", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Summary"]["users"] == {"created": 2, "updated": 1, "unchanged": 0}
    assert iam.list_user_tags(UserName="tu-000")["Tags"] == [{"Key": "k0", "Value": "new"}]


def test_import_reports_bad_files_and_entries_clearly(gh: Endpoint, tmp_path: Path) -> None:
    missing = cli(gh, "import", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "x.json").write_text("[1, 2]")
    wrong = cli(gh, "import", str(tmp_path / "x.json"))
    assert wrong.returncode == 2 and "get-account-authorization-details" in wrong.stderr
    bad = {"UserDetailList": [{"UserName": "ok-user", "Path": "/"}, {"UserName": "bad user!", "Path": "/"}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    partial = cli(gh, "import", str(tmp_path / "bad.json"))
    assert partial.returncode == 1 and "user bad user!: ValidationError" in partial.stderr
    assert gh.client("iam").get_user(UserName="ok-user")["User"]["UserName"] == "ok-user"
    refused = cli(gh, "import", str(tmp_path / "bad.json"), secret="wrong-secret")
    assert refused.returncode == 1 and "SignatureDoesNotMatch" in refused.stderr + refused.stdout
    down = cli(gh, "whoami", "--endpoint-url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "cannot reach" in down.stderr and "Traceback" not in down.stderr


def test_whoami_table_and_json(gh: Endpoint) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="who")
    k = iam.create_access_key(UserName="who")["AccessKey"]
    r = cli(gh, "whoami", "--output", "json", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"UserId": iam.get_user(UserName="who")["User"]["UserId"], "Account": ACCOUNT,
                                    "Arn": f"arn:aws:iam::{ACCOUNT}:user/who"}
    table = cli(gh, "whoami", key=k["AccessKeyId"], secret=k["SecretAccessKey"])
    assert f"arn:aws:iam::{ACCOUNT}:user/who" in table.stdout and "\x1b[" not in table.stdout
    bad = cli(gh, "whoami", "--output", "yaml")
    assert bad.returncode == 2


def test_whoami_uses_a_named_profile(gh: Endpoint, tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(f"[ops]\naws_access_key_id = {gh.key}\naws_secret_access_key = {gh.secret}\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds)}
    r = subprocess.run([sys.executable, "-m", "gatehouse", "whoami", "--profile", "ops", "--output", "json",
                        "--endpoint-url", gh.url], capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in {**os.environ, **env}.items() if not k.startswith("AWS_ACCESS")})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    missing = cli(gh, "whoami", "--profile", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_login_writes_a_profile_only_when_asked(gh: Endpoint, tmp_path: Path) -> None:
    iam = gh.client("iam")
    iam.create_user(UserName="prof")
    iam.create_login_profile(UserName="prof", Password="Correct-Horse-Battery-9")
    creds = tmp_path / "aws" / "credentials"
    creds.parent.mkdir()
    creds.write_text("[keep]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = s\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds)}
    plain = cli(gh, "login", "--account", ACCOUNT, "--username", "prof", "--password-stdin",
                stdin="Correct-Horse-Battery-9\n", env=env)
    assert plain.returncode == 0, plain.stderr
    assert "[prof-session]" not in creds.read_text()
    r = cli(gh, "login", "--account", ACCOUNT, "--username", "prof", "--password-stdin", "--write-profile",
            "prof-session", stdin="Correct-Horse-Battery-9\n", env=env)
    assert r.returncode == 0, r.stderr
    saved = configparser.ConfigParser()
    saved.read(creds)
    assert saved["keep"]["aws_access_key_id"] == "AKIAKEEP"
    assert saved["prof-session"]["aws_access_key_id"].startswith("ASIA")
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    who = subprocess.run([sys.executable, "-m", "gatehouse", "whoami", "--profile", "prof-session", "--output",
                          "json", "--endpoint-url", gh.url], capture_output=True, text=True, timeout=60,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env,
                              "AWS_CONFIG_FILE": os.devnull})
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/prof"


@pytest.mark.parametrize("command", [[], ["import"], ["export"], ["whoami"], ["login"]])
def test_help_has_examples(gh: Endpoint, command: list[str]) -> None:
    r = cli(gh, *command, "--help")
    assert r.returncode == 0 and "Examples:" in r.stdout and "\x1b[" not in r.stdout
    if not command:
        assert "--install-completion" in r.stdout


def test_every_command_has_examples_in_its_help() -> None:
    import typer.main

    from gatehouse.cli.main import _add_examples, app

    root = typer.main.get_command(app)
    _add_examples(root)
    lacking, todo = [], [("gatehouse", root)]
    while todo:
        path, command = todo.pop()
        if "Examples:" not in (command.help or "") + (command.epilog or ""):
            lacking.append(path)
        todo += [(f"{path} {name}", sub) for name, sub in (getattr(command, "commands", None) or {}).items()]
    assert not lacking, f"--help without examples: {lacking}"


def test_shell_completion_completes_commands_and_options(gh: Endpoint) -> None:
    words = {"_GATEHOUSE_COMPLETE": "complete_bash", "COMP_WORDS": "gatehouse whoami --o", "COMP_CWORD": "2"}
    assert "--output" in cli(gh, env=words).stdout.split()
    words.update(COMP_WORDS="gatehouse im", COMP_CWORD="1")
    assert cli(gh, env=words).stdout.split() == ["import"]
