"""AWS Organizations end to end, with boto3 against a real server on SQLite and on PostgreSQL: an organization with two
OUs and three member accounts; an SCP denying iam:CreateUser in one OU binds that account's root user and its
administrators but not the management account; an RCP refuses principals from outside the organization (an account
made with `gatehouse account create`); a role in one member account assumed from another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.servers import Endpoint, persistent_args, running

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.xdist_group("organizations")]

ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
DENY_CREATE_USER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "NoNewUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})
ACCESS_ROLE = "OrganizationAccountAccessRole"


@dataclass
class World:
    ep: Endpoint
    store_args: list[str]
    env: dict[str, str]
    org_id: str = ""
    root_id: str = ""
    ous: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    admin: tuple[str, str] = ("", "")

    def cli(self, *args: str) -> dict[str, Any]:
        made = subprocess.run([sys.executable, "-m", "gatehouse", *args, *self.store_args, "--json"],
                              capture_output=True, text=True, timeout=120, env={**os.environ, **self.env})
        assert made.returncode == 0, made.stderr
        return dict(json.loads(made.stdout))

    def session(self, account: str, name: str = "org-admin") -> dict[str, str]:
        sts = self.ep.client("sts", *self.admin)
        return dict(sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}",
                                    RoleSessionName=name)["Credentials"])

    def client(self, service: str, creds: dict[str, str]) -> Any:
        return self.ep.client(service, creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])


def denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "AccessDenied", caught.value.response
    return str(caught.value.response["Error"]["Message"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, pg_schema_factory: Any, tmp_path_factory: Any) -> Iterator[World]:
    if request.param == "postgresql":
        db = pg_schema_factory()
        args, extra = persistent_args(db_url=db)
        store_args = ["--db", db]
    else:
        data = str(tmp_path_factory.mktemp("data"))
        args, extra = persistent_args(data_dir=data)
        store_args = ["--data", data]
    env = {"GATEHOUSE_MASTER_KEY": extra["GATEHOUSE_MASTER_KEY"]} if "GATEHOUSE_MASTER_KEY" in extra else {}
    with running(*args, env=env) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        w = World(ep, store_args, env)
        orgs = ep.client("organizations")
        w.org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        w.root_id = orgs.list_roots()["Roots"][0]["Id"]
        for ou in ("Sandbox", "Prod"):
            w.ous[ou] = orgs.create_organizational_unit(ParentId=w.root_id, Name=ou)["OrganizationalUnit"]["Id"]
        for name, ou in (("dev", "Sandbox"), ("prod", "Prod"), ("shared", None)):
            status = orgs.create_account(Email=f"{name}@acme.invalid", AccountName=name)["CreateAccountStatus"]
            status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
            assert status["State"] == "SUCCEEDED", status
            w.accounts[name] = status["AccountId"]
            if ou:
                orgs.move_account(AccountId=status["AccountId"], SourceParentId=w.root_id,
                                  DestinationParentId=w.ous[ou])
        iam = ep.client("iam")
        iam.create_user(UserName="org-admin")
        iam.put_user_policy(UserName="org-admin", PolicyName="all", PolicyDocument=ADMIN)
        key = iam.create_access_key(UserName="org-admin")["AccessKey"]
        w.admin = (key["AccessKeyId"], key["SecretAccessKey"])
        yield w


def test_the_organizations_shape(world: World) -> None:
    orgs = world.ep.client("organizations")
    listed = {a["Id"]: a["Name"] for a in orgs.list_accounts()["Accounts"]}
    assert set(listed) == {world.ep.account, *world.accounts.values()}
    assert {o["Name"] for o in orgs.list_organizational_units_for_parent(ParentId=world.root_id)[
        "OrganizationalUnits"]} == {"Sandbox", "Prod"}
    assert orgs.list_parents(ChildId=world.accounts["dev"])["Parents"] == [
        {"Id": world.ous["Sandbox"], "Type": "ORGANIZATIONAL_UNIT"}]
    at_root = {c["Id"] for c in orgs.list_children(ParentId=world.root_id, ChildType="ACCOUNT")["Children"]}
    assert at_root == {world.ep.account, world.accounts["shared"]}
    cli = world.ep.aws("organizations", "list-accounts")
    assert cli.returncode == 0 and world.accounts["prod"] in cli.stdout, cli.stderr


def test_an_scp_binds_the_ou_its_root_and_admins_not_the_management_account(world: World) -> None:
    orgs = world.ep.client("organizations")
    orgs.enable_policy_type(RootId=world.root_id, PolicyType="SERVICE_CONTROL_POLICY")
    pid = orgs.create_policy(Name="DenyCreateUser", Description="", Type="SERVICE_CONTROL_POLICY",
                             Content=DENY_CREATE_USER)["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=pid, TargetId=world.ous["Sandbox"])
    try:
        dev_root = world.cli("account", "root-key", "--account-id", world.accounts["dev"])
        dev_root_iam = world.ep.client("iam", dev_root["AccessKeyId"], dev_root["SecretAccessKey"])
        assert "service control policy" in denied(dev_root_iam.create_user, UserName="by-root")
        dev_admin = world.client("iam", world.session(world.accounts["dev"]))
        denied(dev_admin.create_user, UserName="by-admin")
        dev_admin.create_group(GroupName="only-users-are-denied")
        world.client("iam", world.session(world.accounts["prod"])).create_user(UserName="prod-may")
        world.ep.client("iam").create_user(UserName="management-root-may")
        world.ep.client("iam", *world.admin).create_user(UserName="management-admin-may")
    finally:
        orgs.detach_policy(PolicyId=pid, TargetId=world.ous["Sandbox"])
    dev_root_iam.create_user(UserName="allowed-again")


def test_an_rcp_refuses_principals_from_outside_the_organization(world: World) -> None:
    outside = world.cli("account", "create")
    outside_iam = world.ep.client("iam", outside["AccessKeyId"], outside["SecretAccessKey"])
    outside_iam.create_user(UserName="stranger")
    outside_iam.put_user_policy(UserName="stranger", PolicyName="all", PolicyDocument=ADMIN)
    key = outside_iam.create_access_key(UserName="stranger")["AccessKey"]
    stranger = world.ep.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    prod = world.accounts["prod"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": [f"arn:aws:iam::{outside['AccountId']}:root", f"arn:aws:iam::{world.ep.account}:root"]}}]}
    world.client("iam", world.session(prod)).create_role(RoleName="partner", AssumeRolePolicyDocument=json.dumps(trust))
    role = f"arn:aws:iam::{prod}:role/partner"
    stranger.assume_role(RoleArn=role, RoleSessionName="before-rcp")
    orgs = world.ep.client("organizations")
    orgs.enable_policy_type(RootId=world.root_id, PolicyType="RESOURCE_CONTROL_POLICY")
    rcp = {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyOurOrg", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": world.org_id}}}]}
    pid = orgs.create_policy(Name="OnlyOurOrg", Description="", Type="RESOURCE_CONTROL_POLICY",
                             Content=json.dumps(rcp))["Policy"]["PolicySummary"]["Id"]
    orgs.attach_policy(PolicyId=pid, TargetId=world.ous["Prod"])
    try:
        assert "resource control policy" in denied(stranger.assume_role, RoleArn=role, RoleSessionName="after")
        world.ep.client("sts", *world.admin).assume_role(RoleArn=role, RoleSessionName="insider")
    finally:
        orgs.detach_policy(PolicyId=pid, TargetId=world.ous["Prod"])
    stranger.assume_role(RoleArn=role, RoleSessionName="rcp-gone")


def test_a_role_in_one_member_account_assumed_from_another(world: World) -> None:
    dev, shared = world.accounts["dev"], world.accounts["shared"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{dev}:root"}}]}
    shared_iam = world.client("iam", world.session(shared))
    shared_iam.create_role(RoleName="from-dev", AssumeRolePolicyDocument=json.dumps(trust))
    dev_iam = world.client("iam", world.session(dev))
    dev_iam.create_role(RoleName="hopper", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{world.ep.account}:root"}}]}))
    dev_iam.put_role_policy(RoleName="hopper", PolicyName="hop", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": f"arn:aws:iam::{shared}:role/from-dev"}]}))
    sts = world.ep.client("sts", *world.admin)
    hop = sts.assume_role(RoleArn=f"arn:aws:iam::{dev}:role/hopper", RoleSessionName="hop")["Credentials"]
    landed = world.client("sts", hop).assume_role(RoleArn=f"arn:aws:iam::{shared}:role/from-dev",
                                                  RoleSessionName="landed")["Credentials"]
    ident = world.client("sts", landed).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{shared}:assumed-role/from-dev/landed"
    denied(world.client("sts", hop).assume_role, RoleArn=f"arn:aws:iam::{shared}:role/{ACCESS_ROLE}",
           RoleSessionName="not-trusted")
