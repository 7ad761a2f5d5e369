"""AWS managed policies from the catalogue through the whole IAM API, in process, on SQLite and PostgreSQL:
ListPolicies paging and filters, GetPolicy/GetPolicyVersion/ListPolicyVersions of a non-v1 default, attaching and
detaching, per-account AttachmentCount, GetAccountAuthorizationDetails, and decisions made with their documents."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.app import Application, build
from gatehouse.services.bootstrap import create_account
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.settings import Secret, Settings
from tests.security.support import Answer, Keys, call, ok
from tests.support import ACCOUNT, MASTER_KEY

S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IAM_READ = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
VIEW_ONLY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture(scope="module")
def catalogue() -> AwsManagedPolicies:
    return AwsManagedPolicies()


def _settings(backend: str, tmp_path: Path, pg_schema_factory: Any, root: Keys) -> Settings:
    common: dict[str, Any] = {"account_id": ACCOUNT, "root_access_key_id": root.key,
                              "root_secret_access_key": Secret(root.secret)}
    if backend == "postgresql":
        return Settings(db_url=pg_schema_factory(), master_key=Secret(MASTER_KEY), **common)
    return Settings(data_dir=tmp_path, **common)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, pg_schema_factory: Any) -> Iterator[tuple[Any, ...]]:
    """(application, root keys, settings) on each backend; the settings rebuild it on the same store."""
    root = Keys("AKIATESTROOT" + secrets.token_hex(4).upper(), secrets.token_urlsafe(30)[:40])
    settings = _settings(request.param, tmp_path, pg_schema_factory, root)
    app = build(settings)
    app.bootstrap()
    yield app, root, settings
    app.close()


def members(answer: Answer, listing: str) -> list[dict[str, str]]:
    """The members of a list in an answer, each as {element: text} of its direct children."""
    return [{child.tag.split("}")[1]: child.text or "" for child in member}
            for member in answer.xml.findall(f".//{{*}}{listing}/{{*}}member")]


def page_through(app: Application, root: Keys, **params: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    marker = None
    for _ in range(100):
        answer = ok(app, "iam", "ListPolicies", {**params, **({"Marker": marker} if marker else {})}, root)
        page = members(answer, "Policies")
        assert len(page) <= int(params.get("MaxItems", "100"))
        out += page
        if answer.text("IsTruncated") == "false":
            assert answer.xml.find(".//{*}Marker") is None
            return out
        marker = answer.text("Marker")
    raise AssertionError("ListPolicies never ended")


def document_of(answer: Answer) -> dict[str, Any]:
    return json.loads(urllib.parse.unquote(answer.text("Document")))


def test_list_policies_pages_through_the_whole_catalogue(world: tuple[Any, ...], catalogue: AwsManagedPolicies
                                                         ) -> None:
    app, root, _ = world
    listed = page_through(app, root, Scope="AWS", MaxItems="250")
    assert [p["PolicyName"] for p in listed] == [p.name for p in catalogue.all()]
    assert len(listed) == len(catalogue) >= 1400
    by_name = {p["PolicyName"]: p for p in listed}
    assert by_name["AWSLambdaBasicExecutionRole"]["Arn"] == LAMBDA_BASIC
    assert by_name["ViewOnlyAccess"]["Path"] == "/job-function/"
    assert "Description" not in by_name["AmazonS3ReadOnlyAccess"]  # ListPolicies never returns it
    assert all(p["AttachmentCount"] == "0" and p["IsAttachable"] == "true" for p in listed)
    assert page_through(app, root, Scope="AWS") == listed  # the default page size gives the same listing

    ok(app, "iam", "CreatePolicy", {"PolicyName": "mine", "PolicyDocument": json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]})}, root)
    everything = page_through(app, root, Scope="All", MaxItems="1000")
    assert len(everything) == len(catalogue) + 1
    assert [p["PolicyName"].lower() for p in everything] == sorted(p["PolicyName"].lower() for p in everything)
    assert [p["PolicyName"] for p in page_through(app, root, Scope="Local")] == ["mine"]

    service_roles = page_through(app, root, Scope="AWS", PathPrefix="/service-role/")
    assert [p["PolicyName"] for p in service_roles] == [p.name for p in catalogue.all() if p.path == "/service-role/"]
    job_functions = [p["PolicyName"] for p in page_through(app, root, PathPrefix="/job-function/")]
    assert "ViewOnlyAccess" in job_functions and "mine" not in job_functions
    assert job_functions == [p.name for p in catalogue.all() if p.path == "/job-function/"]


def test_only_attached_and_usage_filter(world: tuple[Any, ...]) -> None:
    app, root, _ = world
    assert page_through(app, root, Scope="AWS", OnlyAttached="true") == []
    ok(app, "iam", "CreateUser", {"UserName": "u", "PermissionsBoundary": VIEW_ONLY}, root)
    ok(app, "iam", "AttachUserPolicy", {"UserName": "u", "PolicyArn": S3_READ}, root)
    ok(app, "iam", "CreateGroup", {"GroupName": "g"}, root)
    ok(app, "iam", "AttachGroupPolicy", {"GroupName": "g", "PolicyArn": LAMBDA_BASIC}, root)

    def names(**params: str) -> list[str]:
        return [p["PolicyName"] for p in page_through(app, root, Scope="AWS", OnlyAttached="true", **params)]

    assert names() == ["AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole", "ViewOnlyAccess"]
    assert names(PolicyUsageFilter="PermissionsPolicy") == ["AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole"]
    assert names(PolicyUsageFilter="PermissionsBoundary") == ["ViewOnlyAccess"]
    assert names(PathPrefix="/service-role/") == ["AWSLambdaBasicExecutionRole"]
    view = {p["PolicyName"]: p for p in page_through(app, root, Scope="AWS", OnlyAttached="true")}
    assert view["ViewOnlyAccess"]["PermissionsBoundaryUsageCount"] == "1"
    assert view["AmazonS3ReadOnlyAccess"]["AttachmentCount"] == "1"


def test_get_policy_and_versions_of_a_non_v1_default(world: tuple[Any, ...], catalogue: AwsManagedPolicies) -> None:
    app, root, _ = world
    expected = catalogue.get("/job-function/", "ViewOnlyAccess")
    assert expected is not None and expected.default_version_id != "v1"
    got = ok(app, "iam", "GetPolicy", {"PolicyArn": VIEW_ONLY}, root)
    policy = {e.tag.split("}")[1]: e.text or "" for e in got.xml.findall(".//{*}Policy/*")}
    assert policy["PolicyName"] == "ViewOnlyAccess" and policy["Path"] == "/job-function/"
    assert policy["Arn"] == VIEW_ONLY and policy["PolicyId"] == expected.policy_id
    assert policy["DefaultVersionId"] == expected.default_version_id
    assert policy["CreateDate"].startswith(expected.created.strftime("%Y-%m-%dT%H:%M:%S"))
    assert policy["UpdateDate"].startswith(expected.updated.strftime("%Y-%m-%dT%H:%M:%S"))
    assert policy["AttachmentCount"] == "0" and policy["IsAttachable"] == "true"

    version = ok(app, "iam", "GetPolicyVersion", {"PolicyArn": VIEW_ONLY, "VersionId": expected.default_version_id},
                 root)
    assert version.text("VersionId") == expected.default_version_id and version.text("IsDefaultVersion") == "true"
    assert document_of(version) == json.loads(catalogue.default_version(expected).document)
    assert any("cloudtrail:DescribeTrails" in str(s.get("Action")) for s in document_of(version)["Statement"])
    listed = members(ok(app, "iam", "ListPolicyVersions", {"PolicyArn": VIEW_ONLY}, root), "Versions")
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in listed] == [(expected.default_version_id, "true")]
    assert "Document" not in listed[0]
    missing = call(app, "iam", "GetPolicyVersion", {"PolicyArn": VIEW_ONLY, "VersionId": "v999999"}, root)
    assert missing.code == "NoSuchEntity"


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/amazons3readonlyaccess",
    "arn:aws:iam::aws:policy/AMAZONS3READONLYACCESS",
    "arn:aws:iam::aws:policy/service-role/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/Service-Role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/job-function/viewonlyaccess",
])
def test_only_the_exact_name_and_path_name_a_policy(world: tuple[Any, ...], arn: str) -> None:
    app, root, _ = world
    ok(app, "iam", "CreateUser", {"UserName": "u"}, root)
    assert call(app, "iam", "GetPolicy", {"PolicyArn": arn}, root).code == "NoSuchEntity"
    assert call(app, "iam", "AttachUserPolicy", {"UserName": "u", "PolicyArn": arn}, root).code == "NoSuchEntity"
    assert members(ok(app, "iam", "ListAttachedUserPolicies", {"UserName": "u"}, root), "AttachedPolicies") == []


def test_attachment_counts_are_per_account_and_detach_works(world: tuple[Any, ...]) -> None:
    app, root, _ = world
    other = create_account(app.store, app.box, app.clock, "210987654321")
    assert other.access_key_id and other.secret_access_key
    them = Keys(other.access_key_id, other.secret_access_key)
    for keys, users in ((root, ["a"]), (them, ["b1", "b2"])):
        for user in users:
            ok(app, "iam", "CreateUser", {"UserName": user}, keys)
            ok(app, "iam", "AttachUserPolicy", {"UserName": user, "PolicyArn": S3_READ}, keys)

    def count(keys: Keys) -> str:
        return ok(app, "iam", "GetPolicy", {"PolicyArn": S3_READ}, keys).text("AttachmentCount")

    assert (count(root), count(them)) == ("1", "2")
    entities = ok(app, "iam", "ListEntitiesForPolicy", {"PolicyArn": S3_READ}, them)
    assert [u["UserName"] for u in members(entities, "PolicyUsers")] == ["b1", "b2"]
    ok(app, "iam", "DetachUserPolicy", {"UserName": "b1", "PolicyArn": S3_READ}, them)
    assert (count(root), count(them)) == ("1", "1")
    assert call(app, "iam", "DetachUserPolicy", {"UserName": "b1", "PolicyArn": S3_READ}, them).code == \
        "NoSuchEntity"
    ok(app, "iam", "DetachUserPolicy", {"UserName": "a", "PolicyArn": S3_READ}, root)
    assert (count(root), count(them)) == ("0", "1")


def test_account_authorization_details_lists_the_attached_ones(world: tuple[Any, ...],
                                                               catalogue: AwsManagedPolicies) -> None:
    app, root, _ = world
    ok(app, "iam", "CreateRole", {"RoleName": "fn", "AssumeRolePolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]})}, root)
    ok(app, "iam", "AttachRolePolicy", {"RoleName": "fn", "PolicyArn": LAMBDA_BASIC}, root)
    ok(app, "iam", "CreateUser", {"UserName": "u"}, root)
    ok(app, "iam", "AttachUserPolicy", {"UserName": "u", "PolicyArn": VIEW_ONLY}, root)
    details = ok(app, "iam", "GetAccountAuthorizationDetails", {"Filter.member.1": "AWSManagedPolicy"}, root)
    policies = details.xml.findall(".//{*}Policies/{*}member")
    assert [p.findtext("{*}Arn") for p in policies] == [LAMBDA_BASIC, VIEW_ONLY]
    view_only = catalogue.get("/job-function/", "ViewOnlyAccess")
    assert view_only is not None
    detail = policies[1]
    assert detail.findtext("{*}AttachmentCount") == "1"
    assert detail.findtext("{*}DefaultVersionId") == view_only.default_version_id
    versions = detail.findall("{*}PolicyVersionList/{*}member")
    assert [(v.findtext("{*}VersionId"), v.findtext("{*}IsDefaultVersion")) for v in versions] == [
        (view_only.default_version_id, "true")]
    assert json.loads(urllib.parse.unquote(versions[0].findtext("{*}Document") or "")) == json.loads(
        catalogue.default_version(view_only).document)
    assert details.xml.findall(".//{*}UserDetailList/{*}member") == []  # the filter keeps only policies
    local = ok(app, "iam", "GetAccountAuthorizationDetails", {"Filter.member.1": "LocalManagedPolicy"}, root)
    assert local.xml.findall(".//{*}Policies/{*}member") == []


def test_the_engine_decides_with_an_attached_catalogue_document(world: tuple[Any, ...]) -> None:
    app, root, settings = world
    ok(app, "iam", "CreateUser", {"UserName": "reader"}, root)
    made = ok(app, "iam", "CreateAccessKey", {"UserName": "reader"}, root)
    reader = Keys(made.text("AccessKeyId"), made.text("SecretAccessKey"))
    assert call(app, "iam", "ListUsers", {}, reader).code == "AccessDenied"
    ok(app, "iam", "AttachUserPolicy", {"UserName": "reader", "PolicyArn": IAM_READ}, root)
    assert call(app, "iam", "ListUsers", {}, reader).status == 200
    assert call(app, "iam", "GetPolicy", {"PolicyArn": VIEW_ONLY}, reader).status == 200
    assert call(app, "iam", "CreateUser", {"UserName": "nope"}, reader).code == "AccessDenied"
    simulated = ok(app, "iam", "SimulatePrincipalPolicy", {
        "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/reader", "ActionNames.member.1": "iam:GetUser",
        "ActionNames.member.2": "iam:DeleteUser"}, root)
    decisions = {r.findtext("{*}EvalActionName"): r.findtext("{*}EvalDecision")
                 for r in simulated.xml.findall(".//{*}EvaluationResults/{*}member")}
    assert decisions == {"iam:GetUser": "allowed", "iam:DeleteUser": "implicitDeny"}

    # The attachment stores (aws, policy id): it still resolves after a restart on the same store.
    app.close()
    again = build(settings)
    try:
        attached = members(ok(again, "iam", "ListAttachedUserPolicies", {"UserName": "reader"}, root),
                           "AttachedPolicies")
        assert attached == [{"PolicyName": "IAMReadOnlyAccess", "PolicyArn": IAM_READ}]
        assert call(again, "iam", "ListUsers", {}, reader).status == 200
        ok(again, "iam", "DetachUserPolicy", {"UserName": "reader", "PolicyArn": IAM_READ}, root)
        assert call(again, "iam", "ListUsers", {}, reader).code == "AccessDenied"
    finally:
        again.close()
