"""`gatehouse authorize`: ask a running server's POST /authorize from the terminal, signed with the caller's
credentials (the standard AWS chain, `--profile`), and print the answer: the line `gatehouse eval` prints.

For operators checking what an application would be told ("may alice read note 1?"); the caller needs
`gatehouse:Authorize` on the resource, as an application does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import botocore.session
import typer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import BotoCoreError, ProfileNotFound
from botocore.httpsession import URLLib3Session

from gatehouse.cli.remote import DEFAULT_ENDPOINT, DEFAULT_REGION, endpoint_option, fail, profile_option


def authorize_command(
    principal: Annotated[str, typer.Option("--principal", help="The principal's ARN (your account's).")],
    action: Annotated[str, typer.Option("--action", help="service:Action")],
    resource: Annotated[str, typer.Option("--resource", help="The resource's ARN (your account's), or *.")] = "*",
    context: Annotated[list[str] | None, typer.Option("--context", help="KEY=VALUE condition key (repeatable; "
                                                      "repeat a key for a list).")] = None,
    endpoint_url: endpoint_option = DEFAULT_ENDPOINT,
    profile: profile_option = None,
) -> None:
    """Decide one request with the server's policies (POST /authorize); exit 0 for Allow, 1 for a denial.

    Examples:

      gatehouse authorize --principal arn:aws:iam::123456789012:user/alice --action notes:GetNote
      --resource arn:aws:notes:us-east-1:123456789012:note/1

      gatehouse authorize --principal arn:aws:iam::123456789012:user/bob --action notes:GetNote
      --resource arn:aws:notes:us-east-1:123456789012:note/1 --context aws:SourceIp=203.0.113.7
    """
    keys: dict[str, Any] = {}
    for item in context or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--context {item!r}: expected KEY=VALUE", 2)
        if key in keys:
            keys[key] = [*(keys[key] if isinstance(keys[key], list) else [keys[key]]), value]
        else:
            keys[key] = value
    body = json.dumps({"request": {"principal": principal, "action": action, "resource": resource,
                                   "context": keys}}).encode()
    url = endpoint_url.rstrip("/") + "/authorize"
    try:
        session = botocore.session.Session(profile=profile)
        credentials = session.get_credentials()
        region = session.get_config_variable("region") or DEFAULT_REGION
    except ProfileNotFound as e:
        fail(str(e), 2)
    if credentials is None:
        fail("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --profile", 2)
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials.get_frozen_credentials(), "gatehouse", region).add_auth(request)
    try:
        response = URLLib3Session(timeout=30).send(request.prepare())
    except BotoCoreError as e:
        fail(f"cannot reach the server: {e}")
    try:
        answer = json.loads(response.content)
    except ValueError:
        fail(f"the server answered {response.status_code} without JSON")
    if response.status_code != 200:
        fail(f"{answer.get('__type', response.status_code)}: {answer.get('message', '')}")
    typer.echo(json.dumps(answer))
    raise typer.Exit(0 if answer.get("decision") == "Allow" else 1)
