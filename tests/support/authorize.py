"""Helpers for the authorization API's tests: SigV4-signed HTTP requests, and a world of two accounts with an
application, users with and without policies, and registered resources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gatehouse.wire.service_models import MODELS_DIR
from tests.support import ACCOUNT
from tests.support.servers import CLIENT_CONFIG, Endpoint

OTHER = "210987654321"
REGION = "us-east-1"


def note(n: int | str, account: str = ACCOUNT) -> str:
    return f"arn:aws:notes:{REGION}:{account}:note/{n}"


def allow(action: str, resource: str, **extra: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                                "Resource": resource, **extra}]})


def signed_headers(method: str, url: str, body: bytes, key: tuple[str, ...], service: str,
                   headers: dict[str, str] | None = None) -> dict[str, str]:
    """The headers of `method url` signed with SigV4 by `key` (access key id, secret[, session token])."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": urlsplit(url).netloc, **(headers or {})})
    SigV4Auth(Credentials(*key), service, REGION).add_auth(request)
    return dict(request.headers.items())


def http(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data


def authorize(ep: Endpoint, key: tuple[str, ...], document: Any, path: str = "/authorize") -> tuple[int, Any]:
    """POST /authorize signed by `key` (service gatehouse)."""
    body = json.dumps(document).encode()
    url = ep.url + path
    return http("POST", url, body, signed_headers("POST", url, body, key, "gatehouse",
                                                  {"Content-Type": "application/json"}))


def forwarded(method: str, url: str, key: tuple[str, ...], body: bytes = b"", service: str = "notes"
              ) -> dict[str, Any]:
    """The `signed_request` of a request a client signed for the application's service."""
    return {"method": method, "url": url, "headers": signed_headers(method, url, body, key, service),
            "body": body.decode()}


def gatehouse_client(ep: Endpoint, key: tuple[str, ...] | None = None) -> Any:
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(MODELS_DIR))
    key = key or (ep.key, ep.secret)
    return session.create_client("gatehouse", endpoint_url=ep.url, region_name=REGION, aws_access_key_id=key[0],
                                 aws_secret_access_key=key[1], aws_session_token=key[2] if len(key) > 2 else None,
                                 config=CLIENT_CONFIG)


def create_account(store_args: list[str], env: dict[str, str], account: str = OTHER) -> tuple[str, str]:
    made = subprocess.run([sys.executable, "-m", "gatehouse", "account", "create", *store_args, "--account-id",
                           account, "--json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})
    assert made.returncode == 0, made.stderr
    other = json.loads(made.stdout)
    return other["AccessKeyId"], other["SecretAccessKey"]


@dataclass
class World:
    """Account A (ACCOUNT) runs the notes application; account B (OTHER) has users reading A's notes."""

    ep: Endpoint
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def user(self, iam: Any, name: str, policy: str | None = None) -> tuple[str, str]:
        iam.create_user(UserName=name)
        if policy:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        made = iam.create_access_key(UserName=name)["AccessKey"]
        self.keys[name] = (made["AccessKeyId"], made["SecretAccessKey"])
        return self.keys[name]


def build_world(ep: Endpoint, other_key: tuple[str, str]) -> World:
    """The application `notes-app` (allowed gatehouse:Authorize on its notes), `alice` (reads A's notes), `bob`
    (no policy), `erin` (no policy, named by note 1's resource policy); in B `carol` (reads A's notes by identity
    policy, named by the resource policy) and `dave` (named by the resource policy, no identity policy). Note 1 has
    that resource policy and a tag; note 2 none."""
    world = World(ep)
    iam = ep.client("iam")
    other = ep.client("iam", *other_key)
    world.user(iam, "notes-app", allow("gatehouse:Authorize", f"arn:aws:notes:*:{ACCOUNT}:*"))
    world.user(iam, "alice", allow("notes:GetNote", note("*")))
    world.user(iam, "bob")
    world.user(iam, "erin")
    world.user(other, "carol", allow("notes:GetNote", note("*")))
    world.user(other, "dave")
    registry = gatehouse_client(ep)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Readers", "Effect": "Allow", "Action": "notes:GetNote", "Resource": note(1),
         "Principal": {"AWS": [f"arn:aws:iam::{OTHER}:user/carol", f"arn:aws:iam::{OTHER}:user/dave",
                               f"arn:aws:iam::{ACCOUNT}:user/erin"]}},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "notes:DeleteNote", "Resource": note(1), "Principal": "*"}]}
    registry.register_resource(ResourceArn=note(1), Tags=[{"Key": "team", "Value": "blue"}],
                               Policy=json.dumps(policy))
    registry.register_resource(ResourceArn=note(2))
    return world
