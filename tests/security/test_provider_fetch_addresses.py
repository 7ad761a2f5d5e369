"""Identity-provider fetches reach only public addresses unless the operator allows a network: a provider URL naming
loopback is never connected to, and the caller learns nothing from the answer, which is the same for an address
refused as for one that does not answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from gatehouse.services.federation.web_token import NO_KEY
from gatehouse.settings import Settings, export_for_workers, worker_settings
from tests.support.oidc_issuer import CLIENT_ID, OidcIssuer
from tests.support.pki import LoopbackCa
from tests.support.servers import Endpoint, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCa:
    return LoopbackCa(str(tmp_path_factory.mktemp("fetch-ca")))


@pytest.fixture(scope="module")
def issuer(ca: LoopbackCa) -> Iterator[OidcIssuer]:
    made = OidcIssuer(ca)  # on 127.0.0.1
    yield made
    made.close()


@pytest.fixture(scope="module")
def server(ca: LoopbackCa) -> Iterator[Endpoint]:
    """Trusts the test CA; may fetch from 127.0.0.2 (where nothing listens) but not from 127.0.0.1."""
    with running("--dev", "--fetch-allow-private", "127.0.0.2/32", env=ca.trust_env) as ep:
        yield ep


def failure(server: Endpoint, url: str, token: str) -> tuple[str, str]:
    iam = server.client("iam")
    provider = iam.create_open_id_connect_provider(Url=url, ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
    role = iam.create_role(RoleName=f"web-{len(iam.list_roles()['Roles'])}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                                                "Action": "sts:AssumeRoleWithWebIdentity"}]}))["Role"]["Arn"]
    with pytest.raises(ClientError) as info:
        server.client("sts").assume_role_with_web_identity(RoleArn=role, RoleSessionName="probe",
                                                           WebIdentityToken=token)
    error: dict[str, Any] = info.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_private_provider_is_never_reached_and_looks_like_an_unreachable_one(server: Endpoint,
                                                                               issuer: OidcIssuer) -> None:
    server.reset()
    refused = failure(server, issuer.url, issuer.token())
    assert issuer.requests == [], "the server connected to a loopback issuer it was not allowed to reach"
    unreachable_url = "https://127.0.0.2:1"
    unreachable = failure(server, unreachable_url, issuer.token(iss=unreachable_url))
    assert refused == unreachable == ("IDPCommunicationError", NO_KEY)


def test_worker_processes_get_the_operators_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_WORKER_SETTINGS", "")  # restored afterwards: export_for_workers sets it
    export_for_workers(Settings(fetch_allow_private=("10.20.0.0/16",)))
    assert worker_settings().fetch_allow_private == ("10.20.0.0/16",)
