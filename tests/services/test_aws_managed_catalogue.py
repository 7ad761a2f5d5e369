"""The AWS managed policy catalogue: what ships (size, source, well-known policies and their paths), exact look-ups,
stable ids, lazy loading, every document decidable by the engine, and the regeneration script on small data."""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gatehouse.policy import (
    DecisionKind,
    PolicyKind,
    PolicySet,
    Principal,
    RequestContext,
    compile_policy,
    evaluate,
    parse,
)
from gatehouse.services.iam.aws_managed import AwsManagedPolicies, policy_id

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue() -> AwsManagedPolicies:
    return AwsManagedPolicies()


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_aws_managed_policies",
                                                  ROOT / "scripts" / "update_aws_managed_policies.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_catalogue_is_aws_s_whole_list_from_the_recorded_dataset(catalogue: AwsManagedPolicies) -> None:
    assert len(catalogue) >= 1400
    source = catalogue.source
    assert source["dataset"] == "moto" and source["version"][0].isdigit()
    assert source["file"] == "moto/iam/aws_managed_policies.py"
    assert source["generated_by"] == "scripts/update_aws_managed_policies.py"
    names = [p.name for p in catalogue.all()]
    assert len(set(names)) == len(names) == len(catalogue)
    assert names == sorted(names, key=str.lower)
    paths = {p.path for p in catalogue.all()}
    assert {"/", "/service-role/", "/job-function/", "/aws-service-role/"} <= paths


@pytest.mark.parametrize(("path", "name"), [
    ("/", "AmazonS3ReadOnlyAccess"), ("/", "AmazonEC2FullAccess"), ("/", "AdministratorAccess"),
    ("/", "ReadOnlyAccess"), ("/", "PowerUserAccess"), ("/", "IAMFullAccess"), ("/", "IAMReadOnlyAccess"),
    ("/", "IAMUserChangePassword"), ("/service-role/", "AWSLambdaBasicExecutionRole"),
    ("/service-role/", "AWSLambdaVPCAccessExecutionRole"), ("/job-function/", "ViewOnlyAccess"),
    ("/job-function/", "Billing"), ("/aws-service-role/", "AWSSupportServiceRolePolicy"),
])
def test_well_known_policies_are_there_with_their_paths(catalogue: AwsManagedPolicies, path: str, name: str) -> None:
    policy = catalogue.get(path, name)
    assert policy is not None, f"{path}{name}"
    assert policy.arn("aws") == f"arn:aws:iam::aws:policy{path}{name}"
    assert policy.aws_managed and policy.created <= policy.updated
    assert policy.default_version_id.startswith("v")
    assert catalogue.by_id(policy.policy_id) is policy


def test_look_ups_are_exact(catalogue: AwsManagedPolicies) -> None:
    assert catalogue.get("/", "AmazonS3ReadOnlyAccess") is not None
    assert catalogue.get("/", "amazons3readonlyaccess") is None
    assert catalogue.get("/", "AMAZONS3READONLYACCESS") is None
    assert catalogue.get("/service-role/", "AmazonS3ReadOnlyAccess") is None
    assert catalogue.get("/", "AWSLambdaBasicExecutionRole") is None
    assert catalogue.get("/Service-Role/", "AWSLambdaBasicExecutionRole") is None
    assert catalogue.by_id("ANPAAAAAAAAAAAAAAAAAA") is None


def test_policy_ids_never_change() -> None:
    """Attachments store the id: the ids Gatehouse gave the six policies it shipped before the catalogue must stay
    the same (databases hold them), and every id is derived from the name alone, whatever the dataset's version."""
    assert {name: policy_id(name) for name in ("AdministratorAccess", "ReadOnlyAccess", "IAMUserChangePassword")} == {
        "AdministratorAccess": "ANPA2AYLMQFOK326YXOZ6", "ReadOnlyAccess": "ANPAYT7PVOYNWVYUH5RSF",
        "IAMUserChangePassword": "ANPAI2X7MWW3AIUO7AE6G"}
    first, second = AwsManagedPolicies(), AwsManagedPolicies()
    assert [(p.name, p.policy_id) for p in first.all()] == [(p.name, p.policy_id) for p in second.all()]
    assert all(p.policy_id == policy_id(p.name) and len(p.policy_id) == 21 for p in first.all())


def test_nothing_is_read_until_first_use_and_documents_on_demand() -> None:
    catalogue = AwsManagedPolicies(cache_size=2)
    assert not catalogue.loaded
    policy = catalogue.get("/", "AdministratorAccess")
    assert catalogue.loaded and policy is not None
    version = catalogue.default_version(policy)
    assert version.is_default and version.version_id == policy.default_version_id
    assert json.loads(version.document)["Statement"] == [{"Action": "*", "Effect": "Allow", "Resource": "*"}]
    for name in ("ReadOnlyAccess", "PowerUserAccess", "IAMFullAccess"):
        found = catalogue.get("/", name)
        assert found is not None
        catalogue.default_version(found)
    assert len(catalogue._documents) == 2  # bounded
    assert catalogue.default_version(policy).document == version.document  # read again after eviction


def test_versions_answer_the_default_one(catalogue: AwsManagedPolicies) -> None:
    policy = catalogue.get("/job-function/", "ViewOnlyAccess")
    assert policy is not None and policy.default_version_id != "v1"
    default = catalogue.version(policy, policy.default_version_id)
    assert default is not None and default.is_default and default.created == policy.updated
    assert catalogue.versions(policy) == [default]
    assert catalogue.version(policy, "v999999") is None


def test_the_engine_reads_every_document(catalogue: AwsManagedPolicies) -> None:
    """AWS stored each of these, so each must parse (one that did not would deny everything where it is
    attached: a stored policy that no longer parses fails closed)."""
    refused = []
    for policy in catalogue.all():
        try:
            compile_policy(parse(catalogue.default_version(policy).document, kind=PolicyKind.IDENTITY))
        except Exception as e:  # report every one, not only the first
            refused.append(f"{policy.name}: {e}")
    assert refused == []


def test_a_catalogue_document_decides(catalogue: AwsManagedPolicies) -> None:
    policy = catalogue.get("/", "AmazonS3ReadOnlyAccess")
    assert policy is not None
    compiled = compile_policy(parse(catalogue.default_version(policy).document))
    alice = Principal.from_arn("arn:aws:iam::123456789012:user/alice")

    def decide(action: str) -> DecisionKind:
        return evaluate(PolicySet(identity=[compiled]), RequestContext(alice, action, "arn:aws:s3:::bucket/key")).kind

    assert decide("s3:GetObject") is DecisionKind.ALLOW
    assert decide("s3:ListBucket") is DecisionKind.ALLOW
    assert decide("s3:PutObject") is DecisionKind.IMPLICIT_DENY


# --- the regeneration script, on a small dataset of our own ------------------------------------------------


def _wheel(policies: dict[str, Any], version: str = "9.9.9") -> tuple[str, bytes]:
    module = f'# made by the test\naws_managed_policies_data = """\n{json.dumps(policies, indent=1)}\n"""\n'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("moto/iam/aws_managed_policies.py", module)
        zf.writestr("moto/__init__.py", "raise SystemExit('never imported')\n")
    return f"moto-{version}-py3-none-any.whl", buffer.getvalue()


SMALL = {
    "ZetaAccess": {"Path": "/", "DefaultVersionId": "v3", "CreateDate": "2015-02-06T18:40:00+00:00",
                   "UpdateDate": "2020-01-02T03:04:05+00:00",
                   "Document": {"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}},
    "alphaRole": {"Path": "/service-role/", "DefaultVersionId": "v1", "CreateDate": "2019-05-01T00:00:00+00:00",
                  "UpdateDate": "2019-05-01T00:00:00+00:00",
                  "Document": {"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}},
}


def test_the_script_builds_a_catalogue_gatehouse_reads() -> None:
    script = _script()
    name, wheel = _wheel(SMALL)
    source = {"dataset": "moto", "version": script.wheel_version(name), "file": script.MEMBER}
    archive = script.build_archive(script.read_dataset(wheel), source)
    assert archive == script.build_archive(script.read_dataset(wheel), source)  # same dataset, same bytes
    catalogue = AwsManagedPolicies(archive)
    assert catalogue.source == {"dataset": "moto", "version": "9.9.9", "file": script.MEMBER}
    assert [p.name for p in catalogue.all()] == ["alphaRole", "ZetaAccess"]
    zeta = catalogue.get("/", "ZetaAccess")
    role = catalogue.get("/service-role/", "alphaRole")
    assert zeta is not None and role is not None and catalogue.get("/", "alphaRole") is None
    assert (zeta.default_version_id, zeta.created.isoformat(), zeta.updated.isoformat()) == (
        "v3", "2015-02-06T18:40:00+00:00", "2020-01-02T03:04:05+00:00")
    assert json.loads(catalogue.default_version(zeta).document) == SMALL["ZetaAccess"]["Document"]


@pytest.mark.parametrize(("field", "value"), [
    ("Path", "no-slashes"), ("Path", "/a//b/"), ("DefaultVersionId", "1"), ("CreateDate", "yesterday"),
    ("CreateDate", "2015-02-06T18:40:00"), ("Document", {"Version": "2012-10-17"}),
])
def test_the_script_refuses_a_dataset_that_breaks_iam_s_shapes(field: str, value: Any) -> None:
    script = _script()
    broken = json.loads(json.dumps(SMALL))
    broken["ZetaAccess"][field] = value
    with pytest.raises(SystemExit):
        script.build_archive(script.read_dataset(_wheel(broken)[1]), {"dataset": "moto"})


def test_the_script_reads_the_dataset_without_running_it() -> None:
    script = _script()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("moto/iam/aws_managed_policies.py", "aws_managed_policies_data = open('/etc/passwd').read()\n")
    with pytest.raises(SystemExit):
        script.read_dataset(buffer.getvalue())
