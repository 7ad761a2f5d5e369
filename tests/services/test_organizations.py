"""AWS Organizations in process, on SQLite and PostgreSQL: the organization's shape, CreateAccount's one transaction,
policies and their rules, AWS's errors, SCPs binding member accounts (their root included) but not the management
account, RCPs on member accounts' roles, the organization condition keys, and caches that follow the organization's
revision (also across two applications sharing one database)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from gatehouse.app import Application, build
from gatehouse.credentials import RootLogin
from gatehouse.errors import AccessDenied
from gatehouse.model import Caller, InlinePolicy, OwnerKind, PrincipalKind, RegisteredResource, RequestMeta
from gatehouse.services.bootstrap import root_key
from gatehouse.services.resources.authorize import AuthorizationApi, read_question
from gatehouse.settings import Secret, Settings
from tests.security.support import ACCOUNT, ALLOW_ALL, HOST, ROOT, Keys, call, new_app, ok, session_keys, user_with_key
from tests.support import MASTER_KEY

DENY_CREATE_USER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})


def org(app: Application, op: str, params: dict[str, Any] | None = None, keys: Keys = ROOT) -> tuple[int, Any]:
    """A signed Organizations (JSON 1.1) call: (status, parsed body)."""
    body = json.dumps(params or {})
    request = AWSRequest("POST", f"http://{HOST}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSOrganizationsV20161128.{op}",
        "Host": HOST})
    SigV4Auth(Credentials(keys.key, keys.secret, keys.token), "organizations", "us-east-1").add_auth(request)
    assert app.asgi is not None
    status, payload = app.asgi.endpoint.handle("POST", "/", "", Headers(headers=dict(request.headers)),
                                               body.encode(), "127.0.0.1", False)
    return status, json.loads(payload) if payload else {}


def org_ok(app: Application, op: str, params: dict[str, Any] | None = None, keys: Keys = ROOT) -> Any:
    status, body = org(app, op, params, keys)
    assert status == 200, (op, body)
    return body


def org_error(app: Application, op: str, params: dict[str, Any] | None = None, keys: Keys = ROOT) -> str:
    status, body = org(app, op, params, keys)
    assert status == 400, (op, status, body)
    return str(body["__type"])


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, pg_schema_factory: Any) -> Iterator[Application]:
    made = new_app() if request.param == "sqlite" else new_app(pg_schema_factory())
    yield made
    made.close()


def _org_with_member(app: Application) -> tuple[str, str, str]:
    """(organization id, root id, member account id)."""
    o = org_ok(app, "CreateOrganization", {"FeatureSet": "ALL"})["Organization"]
    root = org_ok(app, "ListRoots")["Roots"][0]["Id"]
    status = org_ok(app, "CreateAccount", {"Email": "dev@acme.invalid", "AccountName": "dev"})["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED"
    return o["Id"], root, status["AccountId"]


def _assume_access_role(app: Application, admin: Keys, account: str, name: str = "session") -> Keys:
    answer = ok(app, "sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                           "RoleSessionName": name}, admin)
    return session_keys(answer)


def test_create_account_makes_the_account_its_role_and_status(app: Application) -> None:
    org_id, root, member = _org_with_member(app)
    with app.store.read(member) as tx:
        account = tx.accounts.get(member)
        role = tx.roles.get("OrganizationAccountAccessRole")
        assert account is not None and account.partition == "aws"
        assert role is not None and f"arn:aws:iam::{ACCOUNT}:root" in role.trust_policy
        assert len(tx.attachments.for_owner(OwnerKind.ROLE, role.role_id)) == 1
    listed = {a["Id"]: a for a in org_ok(app, "ListAccounts")["Accounts"]}
    assert set(listed) == {ACCOUNT, member}
    assert listed[member]["Paths"] == [f"{org_id}/{root}/{member}/"]
    failed = org_ok(app, "CreateAccount", {"Email": "DEV@acme.invalid", "AccountName": "again"})["CreateAccountStatus"]
    assert failed["State"] == "FAILED" and failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    statuses = org_ok(app, "ListCreateAccountStatus", {"States": ["FAILED"]})["CreateAccountStatuses"]
    assert [s["Id"] for s in statuses] == [failed["Id"]]


def test_authentication_reads_the_organization_with_the_credential(app: Application) -> None:
    """The account's organization and its revision come in the credential's own query (no extra round trip), and
    move with every change to the organization."""
    assert app.store.credential(ROOT.key).org is None  # type: ignore[union-attr]
    org_id, root, _ = _org_with_member(app)
    first = app.store.credential(ROOT.key).org  # type: ignore[union-attr]
    assert first is not None and first[0] == org_id
    org_ok(app, "CreateOrganizationalUnit", {"ParentId": root, "Name": "More"})
    later = app.store.credential(ROOT.key).org  # type: ignore[union-attr]
    assert later is not None and later[0] == org_id and later[1] > first[1]


def test_a_failing_create_account_leaves_nothing(app: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account, its role and the organization's record are one transaction: a failure part-way keeps none."""
    _org_with_member(app)
    import gatehouse.services.organizations.members as members

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the catalogue is unreadable")

    monkeypatch.setattr(members, "bind_trust", broken)
    before = len(org_ok(app, "ListAccounts")["Accounts"])
    with app.store.read() as tx:
        ids = set(tx.accounts.all_ids())
    status, _ = org(app, "CreateAccount", {"Email": "x@acme.invalid", "AccountName": "x"})
    assert status == 500
    assert len(org_ok(app, "ListAccounts")["Accounts"]) == before
    with app.store.read() as tx:
        assert set(tx.accounts.all_ids()) == ids
    assert org_ok(app, "ListCreateAccountStatus")["CreateAccountStatuses"][-1]["AccountName"] == "dev"


def test_errors_as_aws_answers_them(app: Application) -> None:
    assert org_error(app, "DescribeOrganization") == "AWSOrganizationsNotInUseException"
    assert org_error(app, "ListAccounts") == "AWSOrganizationsNotInUseException"
    _, root, member = _org_with_member(app)
    assert org_error(app, "CreateOrganization") == "AlreadyInOrganizationException"
    assert org_error(app, "DescribeAccount", {"AccountId": "999999999999"}) == "AccountNotFoundException"
    assert org_error(app, "ListChildren", {"ParentId": "ou-zzzz-zzzzzzzz", "ChildType": "ACCOUNT"}) \
        == "ParentNotFoundException"
    assert org_error(app, "AttachPolicy", {"PolicyId": "p-FullAWSAccess", "TargetId": member}) \
        == "PolicyTypeNotEnabledException"
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    assert org_error(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"}) \
        == "PolicyTypeAlreadyEnabledException"
    assert org_error(app, "DetachPolicy", {"PolicyId": "p-FullAWSAccess", "TargetId": member}) \
        == "ConstraintViolationException"  # an SCP must remain on every target
    ou = org_ok(app, "CreateOrganizationalUnit", {"ParentId": root, "Name": "A"})["OrganizationalUnit"]["Id"]
    assert org_error(app, "CreateOrganizationalUnit", {"ParentId": root, "Name": "A"}) \
        == "DuplicateOrganizationalUnitException"
    org_ok(app, "MoveAccount", {"AccountId": member, "SourceParentId": root, "DestinationParentId": ou})
    assert org_error(app, "DeleteOrganizationalUnit", {"OrganizationalUnitId": ou}) \
        == "OrganizationalUnitNotEmptyException"
    assert org_error(app, "MoveAccount", {"AccountId": member, "SourceParentId": root, "DestinationParentId": ou}) \
        == "AccountNotFoundException"
    assert org_error(app, "DeleteOrganization") == "OrganizationNotEmptyException"
    assert org_error(app, "ListAccounts", {"NextToken": "not-ours"}) == "InvalidInputException"


def test_an_organization_holds_a_bounded_number_of_accounts(app: Application,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import gatehouse.services.organizations.api as api

    _org_with_member(app)
    monkeypatch.setattr(api, "MAX_ACCOUNTS", 2)
    status = org_ok(app, "CreateAccount", {"Email": "third@acme.invalid", "AccountName": "third"})
    assert status["CreateAccountStatus"]["State"] == "FAILED"
    assert status["CreateAccountStatus"]["FailureReason"] == "ACCOUNT_LIMIT_EXCEEDED"
    assert len(org_ok(app, "ListAccounts")["Accounts"]) == 2


def test_the_remaining_operations(app: Application) -> None:
    org_id, root, member = _org_with_member(app)
    ou = org_ok(app, "CreateOrganizationalUnit", {"ParentId": root, "Name": "A"})["OrganizationalUnit"]
    assert ou["Path"] == f"{org_id}/{root}/{ou['Id']}/" and ou["Arn"].endswith(f":ou/{org_id}/{ou['Id']}")
    renamed = org_ok(app, "UpdateOrganizationalUnit", {"OrganizationalUnitId": ou["Id"], "Name": "B"})
    assert renamed["OrganizationalUnit"]["Name"] == "B"
    assert org_ok(app, "DescribeOrganizationalUnit", {"OrganizationalUnitId": ou["Id"]})[
        "OrganizationalUnit"]["Name"] == "B"
    org_ok(app, "MoveAccount", {"AccountId": member, "SourceParentId": root, "DestinationParentId": ou["Id"]})
    assert [a["Id"] for a in org_ok(app, "ListAccountsForParent", {"ParentId": ou["Id"]})["Accounts"]] == [member]
    assert org_ok(app, "DescribeAccount", {"AccountId": member})["Account"]["Paths"] == [
        f"{org_id}/{root}/{ou['Id']}/{member}/"]
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    pid = org_ok(app, "CreatePolicy", {"Name": "d", "Description": "x", "Type": "SERVICE_CONTROL_POLICY",
                                       "Content": DENY_CREATE_USER})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": pid, "TargetId": ou["Id"]})
    targets = org_ok(app, "ListTargetsForPolicy", {"PolicyId": "p-FullAWSAccess"})["Targets"]
    assert {t["TargetId"] for t in targets} == {root, ou["Id"], ACCOUNT, member}
    listed = org_ok(app, "ListPolicies", {"Filter": "SERVICE_CONTROL_POLICY"})["Policies"]
    assert [(p["Name"], p["AwsManaged"]) for p in listed] == [("FullAWSAccess", True), ("d", False)]
    assert org_ok(app, "DescribePolicy", {"PolicyId": "p-FullAWSAccess"})["Policy"]["PolicySummary"]["Arn"] == \
        "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
    org_ok(app, "DisablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    assert org_ok(app, "ListTargetsForPolicy", {"PolicyId": pid})["Targets"] == []
    assert org_ok(app, "ListRoots")["Roots"][0]["PolicyTypes"] == []
    org_ok(app, "DeletePolicy", {"PolicyId": pid})
    assert org_error(app, "DescribePolicy", {"PolicyId": pid}) == "PolicyNotFoundException"
    org_ok(app, "MoveAccount", {"AccountId": member, "SourceParentId": ou["Id"], "DestinationParentId": root})
    org_ok(app, "DeleteOrganizationalUnit", {"OrganizationalUnitId": ou["Id"]})
    assert org_error(app, "DescribeOrganizationalUnit", {"OrganizationalUnitId": ou["Id"]}) \
        == "OrganizationalUnitNotFoundException"


def test_an_organization_without_members_can_be_deleted(app: Application) -> None:
    alias, email = "a" * 63, "root@" + "e" * 240 + ".invalid"  # the longest a management account can have
    ok(app, "iam", "CreateAccountAlias", {"AccountAlias": alias})
    with app.store.write(ACCOUNT) as tx:
        tx.logins.set_root(RootLogin(ACCOUNT, email, "not-a-hash", app.clock()))
    org_ok(app, "CreateOrganization", {"FeatureSet": "CONSOLIDATED_BILLING"})
    listed = org_ok(app, "ListAccounts")["Accounts"]
    assert [(a["Name"], a["Email"]) for a in listed] == [(alias, email)]
    root = org_ok(app, "ListRoots")["Roots"][0]["Id"]
    assert org_error(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"}) \
        == "ConstraintViolationException"  # policies need all features
    org_ok(app, "DeleteOrganization")
    assert org_error(app, "DescribeOrganization") == "AWSOrganizationsNotInUseException"
    org_ok(app, "CreateOrganization", {"FeatureSet": "ALL"})


def test_pages_follow_next_token(app: Application) -> None:
    _org_with_member(app)
    for n in range(3):
        org_ok(app, "CreateAccount", {"Email": f"m{n}@acme.invalid", "AccountName": f"m{n}"})
    seen, token = [], None
    while True:
        page = org_ok(app, "ListAccounts", {"MaxResults": 2, **({"NextToken": token} if token else {})})
        seen += [a["Id"] for a in page["Accounts"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == 5 == len(set(seen))


def test_member_accounts_cannot_manage_the_organization(app: Application) -> None:
    _, _, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    inside = _assume_access_role(app, admin, member)
    assert org_ok(app, "DescribeOrganization", keys=inside)["Organization"]["MasterAccountId"] == ACCOUNT
    assert org_error(app, "ListAccounts", keys=inside) == "AccessDeniedException"
    status, body = org(app, "DescribeAccount", {"AccountId": member}, keys=inside)
    assert status == 400
    assert body == {"__type": "AccessDeniedException",
                    "message": "You don't have permissions to access this resource."}, body
    nobody = user_with_key(app, "nobody")
    assert org_error(app, "ListAccounts", keys=nobody) == "AccessDeniedException"  # no organizations:ListAccounts


def test_scps_bind_members_and_their_root_not_the_management_account(app: Application) -> None:
    _, root, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    member_root = root_key(app.store, app.box, app.clock, member)
    member_root_keys = Keys(str(member_root.access_key_id), str(member_root.secret_access_key))
    inside = _assume_access_role(app, admin, member)
    ok(app, "iam", "CreateUser", {"UserName": "before"}, member_root_keys)
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    pid = org_ok(app, "CreatePolicy", {"Name": "deny", "Description": "", "Type": "SERVICE_CONTROL_POLICY",
                                       "Content": DENY_CREATE_USER})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": pid, "TargetId": root})
    for keys in (member_root_keys, inside):
        denied = call(app, "iam", "CreateUser", {"UserName": "blocked"}, keys)
        assert denied.code == "AccessDenied" and "service control policy" in denied.message, denied.message
    ok(app, "iam", "CreateGroup", {"GroupName": "still-fine"}, member_root_keys)
    ok(app, "iam", "CreateUser", {"UserName": "management-root"})  # the management account is exempt
    ok(app, "iam", "CreateUser", {"UserName": "management-admin"}, admin)
    simulated = ok(app, "iam", "SimulatePrincipalPolicy", {
        "PolicySourceArn": f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        "ActionNames.member.1": "iam:CreateUser", "ActionNames.member.2": "iam:CreateGroup"}, inside)
    assert [e.text for e in simulated.xml.iter() if e.tag.endswith("EvalDecision")] == ["explicitDeny", "allowed"]
    assert [e.text for e in simulated.xml.iter() if e.tag.endswith("AllowedByOrganizations")] == ["false", "true"]
    org_ok(app, "DetachPolicy", {"PolicyId": pid, "TargetId": root})  # the change applies at once
    ok(app, "iam", "CreateUser", {"UserName": "after"}, member_root_keys)


def test_service_linked_roles_are_exempt_from_scps(app: Application) -> None:
    """AWS: SCPs do not affect service-linked roles. A session of one in a member account under a deny-all SCP is
    decided by its own policies alone; another role's session there is denied."""
    _, root, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    inside = _assume_access_role(app, admin, member)
    made = ok(app, "iam", "CreateServiceLinkedRole", {"AWSServiceName": "autoscaling.amazonaws.com"}, inside)
    linked_id = made.text("RoleId")
    with app.store.write(member) as tx:  # what AWS attaches to its service's role (no API may)
        tx.inline.put(InlinePolicy(OwnerKind.ROLE, linked_id, "service", ALLOW_ALL))
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    deny_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    pid = org_ok(app, "CreatePolicy", {"Name": "none", "Description": "", "Type": "SERVICE_CONTROL_POLICY",
                                       "Content": deny_all})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": pid, "TargetId": member})
    with app.store.read(member) as tx:
        access_role = tx.roles.get("OrganizationAccountAccessRole")
    assert access_role is not None

    def session(role_id: str, role_name: str) -> Caller:
        return Caller(account_id=member, kind=PrincipalKind.ASSUMED_ROLE,
                      arn=f"arn:aws:sts::{member}:assumed-role/{role_name}/s", user_id=f"{role_id}:s", name="s",
                      access_key_id="ASIAEXAMPLE", request=RequestMeta(request_id="r"), principal_id=role_id)

    resource = f"arn:aws:iam::{member}:user/x"
    with app.store.read(member) as tx:
        app.authz.require(tx, session(linked_id, made.text("RoleName")), "iam:CreateUser", resource)
        with pytest.raises(AccessDenied):
            app.authz.require(tx, session(access_role.role_id, access_role.name), "iam:CreateUser", resource)


def test_rcps_and_org_keys_decide_role_assumption(app: Application) -> None:
    org_id, root, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    inside = _assume_access_role(app, admin, member)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                     "Action": "sts:AssumeRole", "Condition": {"StringLike": {
                                                         "aws:PrincipalOrgPaths": f"{org_id}/{root}/*"}}}]}
    ok(app, "iam", "CreateRole", {"RoleName": "by-path", "AssumeRolePolicyDocument": json.dumps(trust)}, inside)
    by_path = f"arn:aws:iam::{member}:role/by-path"
    ok(app, "sts", "AssumeRole", {"RoleArn": by_path, "RoleSessionName": "one"}, admin)
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "RESOURCE_CONTROL_POLICY"})
    rcp = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                                   "Resource": "*", "Condition": {"StringNotEquals": {
                                                       "aws:ResourceOrgID": "o-aaaaaaaaaa"}}}]}
    pid = org_ok(app, "CreatePolicy", {"Name": "r", "Description": "", "Type": "RESOURCE_CONTROL_POLICY",
                                       "Content": json.dumps(rcp)})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": pid, "TargetId": member})
    denied = call(app, "sts", "AssumeRole", {"RoleArn": by_path, "RoleSessionName": "two"}, admin)
    assert denied.code == "AccessDenied" and "resource control policy" in denied.message, denied.message
    assert org_error(app, "DetachPolicy", {"PolicyId": "p-RCPFullAWSAccess", "TargetId": member}) \
        == "InvalidInputException"
    org_ok(app, "DisablePolicyType", {"RootId": root, "PolicyType": "RESOURCE_CONTROL_POLICY"})
    ok(app, "sts", "AssumeRole", {"RoleArn": by_path, "RoleSessionName": "three"}, admin)


def test_rcps_protect_member_accounts_iam_resources_not_the_management_accounts(app: Application) -> None:
    _, root, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    inside = _assume_access_role(app, admin, member)
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "RESOURCE_CONTROL_POLICY"})
    no_groups = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "iam:CreateGroup", "Resource": "*"}]})
    pid = org_ok(app, "CreatePolicy", {"Name": "no-groups", "Description": "", "Type": "RESOURCE_CONTROL_POLICY",
                                       "Content": no_groups})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": pid, "TargetId": root})
    denied = call(app, "iam", "CreateGroup", {"GroupName": "g"}, inside)
    assert denied.code == "AccessDenied" and "resource control policy" in denied.message, denied.message
    ok(app, "iam", "CreateGroup", {"GroupName": "g"}, admin)  # the management account's resources are exempt
    ok(app, "iam", "CreateUser", {"UserName": "u"}, inside)  # the RCP names one action


def test_organizations_actions_are_authorized_with_their_keys_and_targets(app: Application) -> None:
    """`organizations:PolicyType` reaches the context, and AttachPolicy is authorized on the target as well."""
    _, root, member = _org_with_member(app)
    for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": policy_type})
    scps_only = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "organizations:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "organizations:AttachPolicy", "Resource": "*",
         "Condition": {"StringEquals": {"organizations:PolicyType": "RESOURCE_CONTROL_POLICY"}}},
        {"Effect": "Deny", "Action": "organizations:AttachPolicy", "Resource": "arn:aws:organizations::*:root/*"}]})
    operator = user_with_key(app, "operator", policy=scps_only)
    scp = org_ok(app, "CreatePolicy", {"Name": "s", "Description": "", "Type": "SERVICE_CONTROL_POLICY",
                                       "Content": DENY_CREATE_USER}, operator)["Policy"]["PolicySummary"]["Id"]
    rcp = org_ok(app, "CreatePolicy", {"Name": "r", "Description": "", "Type": "RESOURCE_CONTROL_POLICY",
                                       "Content": json.dumps({"Version": "2012-10-17", "Statement": [
                                           {"Effect": "Deny", "Principal": "*", "Action": "iam:CreateRole",
                                            "Resource": "*"}]})}, operator)["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": scp, "TargetId": member}, operator)
    assert org_error(app, "AttachPolicy", {"PolicyId": rcp, "TargetId": member}, operator) == "AccessDeniedException"
    assert org_error(app, "AttachPolicy", {"PolicyId": scp, "TargetId": root}, operator) == "AccessDeniedException"


def test_scps_and_rcps_decide_post_authorize_questions_on_registered_resources(app: Application) -> None:
    """POST /authorize decides with the organization too: an RCP on the member account protects its registered
    resources, and an SCP binds the member account's principals, as for any Gatehouse operation."""
    _, root, member = _org_with_member(app)
    admin = user_with_key(app, "org-admin", policy=ALLOW_ALL)
    inside = _assume_access_role(app, admin, member)
    note = f"arn:aws:notes:us-east-1:{member}:note/1"
    for name, action in (("notes-app", "gatehouse:Authorize"), ("reader", "notes:GetNote")):
        ok(app, "iam", "CreateUser", {"UserName": name}, inside)
        ok(app, "iam", "PutUserPolicy", {"UserName": name, "PolicyName": "p", "PolicyDocument": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})},
           inside)
    made = ok(app, "iam", "CreateAccessKey", {"UserName": "notes-app"}, inside)
    with app.store.write(member) as tx:
        tx.resources.insert(RegisteredResource(member, note, "notes", (), None, app.clock(), app.clock()))
    authenticator = app.services.authenticator
    api = AuthorizationApi(app.store, app.authz)

    def decide() -> dict[str, Any]:
        # Each POST /authorize authenticates the application afresh: its organization (and revision) is read with
        # the credential, and a principal named by ARN in its account shares it.
        asker = authenticator.caller(authenticator.resolve(made.text("AccessKeyId")), RequestMeta(request_id="r"))
        question = read_question({"principal": f"arn:aws:iam::{member}:user/reader", "action": "notes:GetNote",
                                  "resource": note}, 1)
        return api.decide(asker, question)

    assert decide()["decision"] == "Allow"
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "RESOURCE_CONTROL_POLICY"})
    no_reads = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "notes:GetNote", "Resource": "*"}]})
    rcp = org_ok(app, "CreatePolicy", {"Name": "no-reads", "Description": "", "Type": "RESOURCE_CONTROL_POLICY",
                                       "Content": no_reads})["Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": rcp, "TargetId": member})
    answer = decide()
    assert answer["decision"] == "ExplicitDeny" and "resource control policy" in answer["reason"], answer
    org_ok(app, "DetachPolicy", {"PolicyId": rcp, "TargetId": member})
    assert decide()["decision"] == "Allow"
    org_ok(app, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
    scp = org_ok(app, "CreatePolicy", {"Name": "no-notes", "Description": "", "Type": "SERVICE_CONTROL_POLICY",
                                       "Content": no_reads.replace('"Principal": "*", ', "")})[
        "Policy"]["PolicySummary"]["Id"]
    org_ok(app, "AttachPolicy", {"PolicyId": scp, "TargetId": root})
    answer = decide()
    assert answer["decision"] == "ExplicitDeny" and "service control policy" in answer["reason"], answer


def test_policy_documents_follow_the_types_rules(app: Application) -> None:
    _org_with_member(app)
    scp = {"Name": "x", "Description": "", "Type": "SERVICE_CONTROL_POLICY"}
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    assert org_error(app, "CreatePolicy", {**scp, "Content": with_principal}) == "MalformedPolicyDocumentException"
    rcp_allow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})
    assert org_error(app, "CreatePolicy", {**scp, "Type": "RESOURCE_CONTROL_POLICY", "Content": rcp_allow}) \
        == "MalformedPolicyDocumentException"
    padded = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}, indent=5000)
    assert org_error(app, "CreatePolicy", {**scp, "Content": padded}) == "ConstraintViolationException"
    org_ok(app, "CreatePolicy", {**scp, "Content": DENY_CREATE_USER})
    assert org_error(app, "CreatePolicy", {**scp, "Content": DENY_CREATE_USER}) == "DuplicatePolicyException"
    assert org_error(app, "DeletePolicy", {"PolicyId": "p-FullAWSAccess"}) == "InvalidInputException"


def test_concurrent_changes_to_one_organization_queue(app: Application) -> None:
    """Writers of an organization are serialized (its revision's row lock): of eight concurrent creates of one OU
    name exactly one succeeds, and the others get AWS's DuplicateOrganizationalUnitException, never a 500."""
    _, root, _ = _org_with_member(app)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def create() -> None:
        answer = org(app, "CreateOrganizationalUnit", {"ParentId": root, "Name": "Same"})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(status for status, _ in answers) == [200] + [400] * 7, answers
    assert {body["__type"] for status, body in answers if status == 400} == {"DuplicateOrganizationalUnitException"}
    listed = org_ok(app, "ListOrganizationalUnitsForParent", {"ParentId": root})["OrganizationalUnits"]
    assert [u["Name"] for u in listed] == ["Same"]


def test_two_replicas_on_one_database_see_an_scp_at_once(pg_schema_factory: Any) -> None:
    """Caches follow the organization's revision in the database: an SCP attached through one application binds
    the member account on the other at its next request."""
    url = pg_schema_factory()
    first = new_app(url)
    second = build(Settings(db_url=url, master_key=Secret(MASTER_KEY), account_id=ACCOUNT,
                            root_access_key_id=ROOT.key, root_secret_access_key=Secret(ROOT.secret)))
    try:
        _, root, member = _org_with_member(first)
        made = root_key(first.store, first.box, first.clock, member)
        member_root = Keys(str(made.access_key_id), str(made.secret_access_key))
        ok(second, "iam", "CreateUser", {"UserName": "cached"}, member_root)  # the second replica caches
        org_ok(first, "EnablePolicyType", {"RootId": root, "PolicyType": "SERVICE_CONTROL_POLICY"})
        pid = org_ok(first, "CreatePolicy", {"Name": "d", "Description": "", "Type": "SERVICE_CONTROL_POLICY",
                                             "Content": DENY_CREATE_USER})["Policy"]["PolicySummary"]["Id"]
        org_ok(first, "AttachPolicy", {"PolicyId": pid, "TargetId": member})
        assert call(second, "iam", "CreateUser", {"UserName": "now-denied"}, member_root).code == "AccessDenied"
    finally:
        first.close()
        second.close()
