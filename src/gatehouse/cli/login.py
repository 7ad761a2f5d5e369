"""`gatehouse login`: sign in with a password (and an MFA code when the user has a device) through the server's
`POST /signin`, and print the session's temporary credentials for the shell or the AWS SDKs.

The password is read from a hidden prompt or standard input, never from a flag (`ps` would show it).
"""

from __future__ import annotations

import configparser
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gatehouse.cli.remote import DEFAULT_ENDPOINT, endpoint_option
from gatehouse.settings import env_secret

err = Console(stderr=True, highlight=False)

CredentialsFile = Annotated[Path, typer.Option(
    "--credentials-file", envvar="AWS_SHARED_CREDENTIALS_FILE", dir_okay=False,
    help="The shared credentials file --write-profile writes (the AWS SDKs' AWS_SHARED_CREDENTIALS_FILE).")]


def write_profile(path: Path, name: str, creds: dict[str, Any]) -> None:
    """Put the temporary credentials in profile `name` of the shared credentials file, keeping its other profiles;
    the file is readable by its owner only, as the aws CLI leaves it."""
    config = configparser.RawConfigParser()
    config.read(path, encoding="utf-8")
    config[name] = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"]}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        config.write(f)
    path.chmod(0o600)


def _post(url: str, fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url.rstrip("/") + "/signin", data=json.dumps(fields).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {"code": "HttpError", "message": f"HTTP {e.code}"}


def _new_password(from_stdin: bool) -> str:
    """The password that replaces an expired (or reset-required) one: the next line of stdin with --password-stdin,
    else typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            err.print("[red]gatehouse: the password must be changed: give the new one on the second line of "
                      "stdin[/red]")
            raise typer.Exit(1)
        return line
    if not sys.stdin.isatty():
        err.print("[red]gatehouse: the password must be changed: run on a terminal, or use --password-stdin with "
                  "the new password on the second line[/red]")
        raise typer.Exit(1)
    err.print("Your password has expired or must be reset; choose a new one.")
    new: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return new


def login_command(
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    account: Annotated[str | None, typer.Option("--account", help="Account id or alias (IAM users).")] = None,
    username: Annotated[str | None, typer.Option("--username", help="IAM user name.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Root user's email (instead of --username).")] = None,
    mfa_code: Annotated[str | None, typer.Option("--mfa-code", help="Current code of your MFA device.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    output: Annotated[str, typer.Option("--output", help="env (export lines) or json.")] = "env",
    profile_name: Annotated[str | None, typer.Option(
        "--write-profile", metavar="NAME",
        help="Also write the credentials to profile NAME of ~/.aws/credentials (for `aws --profile NAME`).")] = None,
    credentials_file: CredentialsFile = Path("~/.aws/credentials"),
) -> None:
    """Sign in and print temporary credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).

    With --write-profile NAME they also go to that profile of the shared credentials file (and only then is the \
file touched), so that `aws --profile NAME` and boto3 use them.

    Examples:

      eval "$(gatehouse login --account 123456789012 --username alice)"

      gatehouse login --email root@example.com --mfa-code 123456 --write-profile gatehouse

      printf '%s\\n' "$PASSWORD" | gatehouse login --username ci --account 123456789012 --password-stdin --output json
    """
    if bool(username) == bool(email):
        err.print("[red]gatehouse: give either --username (with --account) or --email[/red]")
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        given = env_secret("PASSWORD")
        password = given.reveal() if given else typer.prompt("Password", hide_input=True)
    fields: dict[str, Any] = {"password": password, "credentials": True}
    fields.update({"account": account, "username": username} if username else {"email": email})
    if mfa_code:
        fields["mfa_code"] = mfa_code
    status, body = _post(endpoint_url, fields)
    # Sign-in may ask for more, once each: an MFA code, then (expired or reset-required) a new password.
    for _ in range(2):
        code = body.get("code") if status == 401 else None
        if code == "MfaRequired" and "mfa_code" not in fields and sys.stdin.isatty():
            fields["mfa_code"] = typer.prompt("MFA code")
        elif code == "PasswordExpired" and "new_password" not in fields:
            fields["new_password"] = _new_password(password_stdin)
        else:
            break
        status, body = _post(endpoint_url, fields)
    if status != 200 or "credentials" not in body:
        err.print(f"[red]gatehouse: sign-in refused: {body.get('code', status)}: {body.get('message', '')}[/red]")
        raise typer.Exit(1)
    creds = body["credentials"]
    if profile_name:
        target = credentials_file.expanduser()
        try:
            write_profile(target, profile_name, creds)
        except (OSError, configparser.Error) as e:
            err.print(f"gatehouse: cannot write profile {profile_name} to {target}: {e}", markup=False)
            raise typer.Exit(1) from None
        err.print(f"gatehouse: wrote profile {profile_name} to {target}", markup=False)
    if output == "json":
        sys.stdout.write(json.dumps({"Arn": body.get("arn"), **creds}) + "\n")
        return
    sys.stdout.write(f"export AWS_ACCESS_KEY_ID={creds['AccessKeyId']}\n"
                     f"export AWS_SECRET_ACCESS_KEY={creds['SecretAccessKey']}\n"
                     f"export AWS_SESSION_TOKEN={creds['SessionToken']}\n"
                     f"# {body.get('arn')} until {creds['Expiration']}\n")
