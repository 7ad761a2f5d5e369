"""The outbound token issuer is the operator's, never the caller's: it comes from --public-url (in --dev without
one, the listening address), not from the Host header of the request that enables the feature; outside --dev,
enabling without a public URL is refused with an error naming the flag; a changed public URL applies; and each
account's discovery document and key set are served at that account's issuer path only."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import Endpoint, persistent_args, running

pytestmark = pytest.mark.e2e


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            json.loads(r.read())
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def forged_host(client: Any, host: str) -> Any:
    def forge(request: Any, **_: Any) -> None:
        request.headers["Host"] = host
    client.meta.events.register("before-sign", forge)
    return client


def test_the_host_header_does_not_name_the_issuer(gh: Endpoint) -> None:
    for host in ("attacker.example", f"127.0.0.1:1/accounts/{ACCOUNT}"):
        gh.reset()
        issuer = forged_host(gh.client("iam"), host).enable_outbound_web_identity_federation()["IssuerIdentifier"]
        assert issuer == f"{gh.url}/accounts/{ACCOUNT}", host
    # The documents are at the account's issuer path, and under no other prefix.
    assert status_of(f"{gh.url}/accounts/{ACCOUNT}/.well-known/jwks.json") == 200
    for elsewhere in (f"/accounts/111111111111/accounts/{ACCOUNT}", f"/x/accounts/{ACCOUNT}"):
        assert status_of(f"{gh.url}{elsewhere}/.well-known/jwks.json") == 404
        assert status_of(f"{gh.url}{elsewhere}/.well-known/openid-configuration") == 404


def test_outside_dev_the_public_url_is_required_and_a_changed_one_applies(tmp_path: Any) -> None:
    args, extra = persistent_args(data_dir=str(tmp_path / "data"))
    with running(*args) as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        with pytest.raises(ClientError) as info:
            iam.enable_outbound_web_identity_federation()
        assert info.value.response["Error"]["Code"] == "InvalidInput"
        assert "--public-url" in info.value.response["Error"]["Message"]
        assert status_of(f"{ep.url}/accounts/{ACCOUNT}/.well-known/jwks.json") == 404
    with running(*args, "--public-url", "https://iam.example.test/gh") as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        first = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
        assert first == f"https://iam.example.test/gh/accounts/{ACCOUNT}"
        assert status_of(f"{ep.url}/gh/accounts/{ACCOUNT}/.well-known/openid-configuration") == 200
        assert status_of(f"{ep.url}/accounts/{ACCOUNT}/.well-known/openid-configuration") == 404
    with running(*args, "--public-url", "https://id.example.test") as ep:
        iam = ep.client("iam", extra["key"], extra["secret"])
        issuer = f"https://id.example.test/accounts/{ACCOUNT}"
        assert iam.get_outbound_web_identity_federation_info()["IssuerIdentifier"] == issuer
        with urllib.request.urlopen(f"{ep.url}/accounts/{ACCOUNT}/.well-known/openid-configuration",
                                    timeout=10) as r:
            discovery = json.loads(r.read())
        assert (discovery["issuer"], discovery["jwks_uri"]) == (issuer, issuer + "/.well-known/jwks.json")
        assert status_of(f"{ep.url}/gh/accounts/{ACCOUNT}/.well-known/jwks.json") == 404
