"""Service-linked role names as AWS names them, from a table that records each name's source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gatehouse.errors import InvalidInput
from gatehouse.services.iam.service_linked import linked_role_name, linked_role_names

TABLE = Path(__file__).resolve().parents[2] / "src" / "gatehouse" / "services" / "iam" / "service_linked_roles.json"


@pytest.mark.parametrize(("service", "name"), [
    ("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling"),
    ("custom-resource.application-autoscaling.amazonaws.com", "AWSServiceRoleForApplicationAutoScaling_CustomResource"),
    ("dynamodb.application-autoscaling.amazonaws.com", "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"),
    ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
    ("spot.amazonaws.com", "AWSServiceRoleForEC2Spot"),
    ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
    ("ecs.amazonaws.com", "AWSServiceRoleForECS"),
    ("es.amazonaws.com", "AWSServiceRoleForAmazonElasticsearchService"),
    ("acm.amazonaws.com", "AWSServiceRoleForCertificateManager"),
    ("ssm.amazonaws.com", "AWSServiceRoleForAmazonSSM"),
])
def test_names_as_aws_documents_them(service: str, name: str) -> None:
    assert linked_role_name(service, None) == name


def test_custom_suffix_where_accepted() -> None:
    assert linked_role_name("autoscaling.amazonaws.com", "web") == "AWSServiceRoleForAutoScaling_web"
    with pytest.raises(InvalidInput):
        linked_role_name("rds.amazonaws.com", "web")


@pytest.mark.parametrize("service", ["no-such-service.amazonaws.com", "lambda.amazonaws.com", "not-a-principal",
                                     "SPOT.amazonaws.com"])
def test_a_service_without_a_linked_role_is_refused(service: str) -> None:
    with pytest.raises(InvalidInput):
        linked_role_name(service, None)


def test_every_entry_has_a_well_formed_name_and_a_source() -> None:
    raw = json.loads(TABLE.read_text())
    assert raw["dataset"]["name"] == "localstack-core" and raw["dataset"]["version"]
    table = linked_role_names()
    assert len(table) >= 100 and len(table) == len(raw["roles"])
    for principal, entry in table.items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com", principal), principal
        assert re.fullmatch(r"AWSServiceRoleFor[\w+=,.@-]+", entry.name) and len(entry.name) <= 64, entry
        assert entry.source.startswith(("https://docs.aws.amazon.com/", "localstack-core ")), entry
    names = [e.name for e in table.values()]
    assert len(names) == len(set(names)), "two services share a role name"
