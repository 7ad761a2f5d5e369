"""STS end to end: AssumeRole (same and cross account), sessions limited by session policies and boundaries,
chaining, tokens that are tampered with or swapped, GetSessionToken, GetFederationToken, encoded denials."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from tests.support import ACCOUNT
from tests.support.servers import persistent_args, running

pytestmark = pytest.mark.e2e


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal: dict, *actions: str, condition: dict | None = None) -> str:
    st: dict = {"Effect": "Allow", "Principal": principal, "Action": list(actions or ("sts:AssumeRole",))}
    if condition:
        st["Condition"] = condition
    return doc(st)


def code(fn, *args, **kwargs) -> str | None:
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def user_with(iam, name: str, inline: str | None = None) -> tuple[str, str]:
    iam.create_user(UserName=name)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def session(ep, creds: dict, service: str = "iam"):
    return ep.client(service, creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])


ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
ASSUMER = doc(allow(["sts:AssumeRole", "sts:TagSession"]))


def test_assume_role_session_identity_and_permissions(gh):
    iam = gh.client("iam")
    key = user_with(iam, "alice", ASSUMER)
    arn = iam.create_role(RoleName="reader", Path="/team/", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    out = gh.client("sts", *key).assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=900)
    creds, who = out["Credentials"], out["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    role_id = iam.get_role(RoleName="reader")["Role"]["RoleId"]
    assert who["AssumedRoleId"] == f"{role_id}:s1"
    left = (creds["Expiration"] - dt.datetime.now(dt.UTC)).total_seconds()
    assert 800 < left <= 905
    ident = session(gh, creds, "sts").get_caller_identity()
    assert ident == {**ident, "Arn": who["Arn"], "UserId": who["AssumedRoleId"], "Account": ACCOUNT}
    s = session(gh, creds)
    s.list_users()
    assert code(s.create_user, UserName="x") == "AccessDenied"
    assert gh.client("sts").get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == ACCOUNT
    assert iam.get_role(RoleName="reader")["Role"]["RoleLastUsed"].get("Region") == "us-east-1"


def test_aws_cli_assume_role(gh):
    iam = gh.client("iam")
    key = user_with(iam, "cli-user", ASSUMER)
    arn = iam.create_role(RoleName="cli-role", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    r = gh.aws("sts", "assume-role", "--role-arn", arn, "--role-session-name", "from-cli", key=key[0], secret=key[1])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["AssumedRoleUser"]["Arn"].endswith("assumed-role/cli-role/from-cli")


def test_trust_and_identity_decide_together(gh):
    iam = gh.client("iam")
    nopolicy = user_with(iam, "nopolicy")
    alice = user_with(iam, "alice", ASSUMER)
    via_account = iam.create_role(RoleName="via-account", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    naming_user = iam.create_role(RoleName="naming-user", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{ACCOUNT}:user/nopolicy"}))["Role"]["Arn"]
    assert code(gh.client("sts", *nopolicy).assume_role, RoleArn=via_account, RoleSessionName="xx") == "AccessDenied"
    gh.client("sts", *nopolicy).assume_role(RoleArn=naming_user, RoleSessionName="xx")  # trust naming the user grants
    assert code(gh.client("sts", *alice).assume_role, RoleArn=naming_user, RoleSessionName="xx") == "AccessDenied"
    ghost = f"arn:aws:iam::{ACCOUNT}:role/ghost"
    assert code(gh.client("sts", *alice).assume_role, RoleArn=ghost, RoleSessionName="xx") == "AccessDenied"
    assert code(gh.client("sts").assume_role, RoleArn=via_account, RoleSessionName="xx") == "AccessDenied"  # root


def test_external_id_and_source_identity_and_tags(gh):
    iam = gh.client("iam")
    alice = gh.client("sts", *user_with(iam, "alice", doc(allow(["sts:AssumeRole", "sts:TagSession",
                                                                 "sts:SetSourceIdentity"]))))
    ext = iam.create_role(RoleName="ext", AssumeRolePolicyDocument=trust(
        ROOT, condition={"StringEquals": {"sts:ExternalId": "e-1"}}))["Role"]["Arn"]
    assert code(alice.assume_role, RoleArn=ext, RoleSessionName="xx") == "AccessDenied"
    alice.assume_role(RoleArn=ext, RoleSessionName="xx", ExternalId="e-1")
    plain = iam.create_role(RoleName="plain", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    assert code(alice.assume_role, RoleArn=plain, RoleSessionName="xx", SourceIdentity="me") == "AccessDenied"
    assert code(alice.assume_role, RoleArn=plain, RoleSessionName="xx",
                Tags=[{"Key": "k", "Value": "v"}]) == "AccessDenied"
    tagged = iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=trust(
        ROOT, "sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"))["Role"]["Arn"]
    iam.put_role_policy(RoleName="tagged", PolicyName="p", PolicyDocument=doc(
        allow(["iam:ListRoles", "sts:AssumeRole", "sts:TagSession"]),
        allow("iam:ListUsers", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})))
    out = alice.assume_role(RoleArn=tagged, RoleSessionName="blue", SourceIdentity="alice-src",
                            Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["team"])
    assert out["SourceIdentity"] == "alice-src" and isinstance(out["PackedPolicySize"], int)
    s = session(gh, out["Credentials"])
    s.list_users()
    # Chaining keeps the transitive tag and the source identity; the tag cannot be overridden.
    chained_sts = session(gh, out["Credentials"], "sts")
    again = chained_sts.assume_role(RoleArn=tagged, RoleSessionName="hop")
    assert again["SourceIdentity"] == "alice-src"
    session(gh, again["Credentials"]).list_users()
    assert code(chained_sts.assume_role, RoleArn=tagged, RoleSessionName="hop2",
                Tags=[{"Key": "team", "Value": "red"}]) == "InvalidParameterValue"


def test_duration_limits_and_chaining(gh):
    iam = gh.client("iam")
    alice = gh.client("sts", *user_with(iam, "alice", ASSUMER))
    short = iam.create_role(RoleName="short", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    long = iam.create_role(RoleName="long", AssumeRolePolicyDocument=trust(ROOT),
                           MaxSessionDuration=43200)["Role"]["Arn"]
    iam.put_role_policy(RoleName="short", PolicyName="hop", PolicyDocument=doc(allow("sts:AssumeRole")))
    assert code(alice.assume_role, RoleArn=short, RoleSessionName="xx", DurationSeconds=7200) == "ValidationError"
    alice.assume_role(RoleArn=long, RoleSessionName="xx", DurationSeconds=43200)
    first = session(gh, alice.assume_role(RoleArn=short, RoleSessionName="xx")["Credentials"], "sts")
    assert code(first.assume_role, RoleArn=long, RoleSessionName="yy", DurationSeconds=3601) == "ValidationError"
    first.assume_role(RoleArn=long, RoleSessionName="yy", DurationSeconds=3600)


def test_session_policies_and_role_boundary(gh):
    iam = gh.client("iam")
    alice = gh.client("sts", *user_with(iam, "alice", ASSUMER))
    wide = iam.create_role(RoleName="wide", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="wide", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    narrow = session(gh, alice.assume_role(RoleArn=wide, RoleSessionName="nn", Policy=doc(
        allow("iam:GetUser")))["Credentials"])
    narrow.get_user(UserName="alice")
    assert code(narrow.list_users) == "AccessDenied"
    groups = iam.create_policy(PolicyName="groups", PolicyDocument=doc(allow("iam:ListGroups")))["Policy"]["Arn"]
    by_arn = session(gh, alice.assume_role(RoleArn=wide, RoleSessionName="aa",
                                           PolicyArns=[{"arn": groups}])["Credentials"])
    by_arn.list_groups()
    assert code(by_arn.list_users) == "AccessDenied"
    assert code(alice.assume_role, RoleArn=wide, RoleSessionName="mm", Policy="{not json") == "MalformedPolicyDocument"
    boundary = iam.create_policy(PolicyName="b", PolicyDocument=doc(allow("iam:List*")))["Policy"]["Arn"]
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=trust(ROOT), PermissionsBoundary=boundary)
    iam.attach_role_policy(RoleName="bounded", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    b = session(gh, alice.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bounded",
                                      RoleSessionName="bb")["Credentials"])
    b.list_roles()
    assert code(b.create_group, GroupName="g") == "AccessDenied"


def test_tampered_swapped_and_missing_tokens(gh):
    iam = gh.client("iam")
    alice = gh.client("sts", *user_with(iam, "alice", ASSUMER))
    arn = iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    a = alice.assume_role(RoleArn=arn, RoleSessionName="aa")["Credentials"]
    b = alice.assume_role(RoleArn=arn, RoleSessionName="bb")["Credentials"]
    tok = a["SessionToken"]
    for at in range(10, len(tok) - 2, max(1, len(tok) // 7)):
        bad = tok[:at] + ("B" if tok[at] != "B" else "C") + tok[at + 1:]
        c = gh.client("sts", a["AccessKeyId"], a["SecretAccessKey"], token=bad)
        assert code(c.get_caller_identity) == "InvalidClientTokenId"
    swapped = gh.client("sts", a["AccessKeyId"], a["SecretAccessKey"], token=b["SessionToken"])
    assert code(swapped.get_caller_identity) == "InvalidClientTokenId"
    assert code(gh.client("sts", a["AccessKeyId"], a["SecretAccessKey"]).get_caller_identity) == \
        "InvalidClientTokenId"
    wrong_secret = gh.client("sts", a["AccessKeyId"], b["SecretAccessKey"], token=a["SessionToken"])
    assert code(wrong_secret.get_caller_identity) == "SignatureDoesNotMatch"
    session(gh, a, "sts").get_caller_identity()


def test_deleted_role_ends_its_sessions(gh):
    iam = gh.client("iam")
    alice = gh.client("sts", *user_with(iam, "alice", ASSUMER))
    arn = iam.create_role(RoleName="temp", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
    iam.put_role_policy(RoleName="temp", PolicyName="p", PolicyDocument=doc(allow("iam:ListUsers")))
    s = session(gh, alice.assume_role(RoleArn=arn, RoleSessionName="aa")["Credentials"])
    s.list_users()
    iam.delete_role_policy(RoleName="temp", PolicyName="p")
    iam.delete_role(RoleName="temp")
    assert code(s.list_users) == "AccessDenied"


def test_trust_names_an_identity_not_a_name(gh):
    """AWS binds a user or role ARN in a trust policy to its unique id when the policy is saved: GetRole shows the
    ARN while the user exists and the bare id once deleted, and a user re-created under the name is not trusted
    (IAM User Guide, role trust policy examples)."""
    iam = gh.client("iam")
    first = user_with(iam, "deployer", ASSUMER)
    user_arn, first_id = f"arn:aws:iam::{ACCOUNT}:user/deployer", iam.get_user(UserName="deployer")["User"]["UserId"]
    arn = iam.create_role(RoleName="Deploy", AssumeRolePolicyDocument=trust({"AWS": user_arn}))["Role"]["Arn"]
    assert iam.get_role(RoleName="Deploy")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": user_arn}
    gh.client("sts", *first).assume_role(RoleArn=arn, RoleSessionName="first")
    iam.delete_user_policy(UserName="deployer", PolicyName="inline")
    iam.delete_access_key(UserName="deployer", AccessKeyId=first[0])
    iam.delete_user(UserName="deployer")
    for shown in (iam.get_role(RoleName="Deploy")["Role"], iam.list_roles()["Roles"][0],
                  iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"][0]):
        assert shown["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": first_id}
    again = gh.client("sts", *user_with(iam, "deployer", ASSUMER))
    assert code(again.assume_role, RoleArn=arn, RoleSessionName="again") == "AccessDenied"
    iam.update_assume_role_policy(RoleName="Deploy", PolicyDocument=trust({"AWS": user_arn}))  # bound anew
    again.assume_role(RoleArn=arn, RoleSessionName="again")


def test_get_session_token_and_federation_token(gh):
    iam = gh.client("iam")
    carol = user_with(iam, "carol", doc(allow(["iam:*", "sts:GetFederationToken"])))
    sts = gh.client("sts", *carol)
    st = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert st["AccessKeyId"].startswith("ASIA")
    assert session(gh, st, "sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/carol"
    assert code(session(gh, st).list_users) == "InvalidClientTokenId"  # IAM needs MFA from such sessions
    assert code(session(gh, st, "sts").get_session_token) == "InvalidClientTokenId"
    fed = sts.get_federation_token(Name="fedcarol", Policy=doc(allow("iam:ListUsers")))
    assert fed["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/fedcarol"
    assert session(gh, fed["Credentials"], "sts").get_caller_identity()["UserId"] == f"{ACCOUNT}:fedcarol"
    assert code(session(gh, fed["Credentials"]).list_users) == "InvalidClientTokenId"
    nofed = gh.client("sts", *user_with(iam, "nofed"))
    assert code(nofed.get_federation_token, Name="x1") == "AccessDenied"


def test_encoded_authorization_message_decodes_only_with_permission(gh):
    iam = gh.client("iam")
    mine = gh.client("iam", *user_with(iam, "denied"))
    with pytest.raises(ClientError) as info:
        mine.create_group(GroupName="nope")
    encoded = info.value.response["Error"]["EncodedAuthorizationMessage"]
    decoded = json.loads(gh.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["context"]["action"] == "iam:CreateGroup"
    assert decoded["context"]["principal"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/denied"
    reader = gh.client("sts", *user_with(iam, "reader"))
    assert code(reader.decode_authorization_message, EncodedMessage=encoded) == "AccessDenied"
    assert code(gh.client("sts").decode_authorization_message, EncodedMessage=encoded[:-4] + "AAAA") == \
        "InvalidAuthorizationMessageException"


def test_cross_account_assume_role_needs_both_sides(tmp_path):
    data = str(tmp_path / "data")
    args, extra = persistent_args(data_dir=data)
    with running(*args) as ep:
        ep.key, ep.secret = extra["key"], extra["secret"]
        out = subprocess.run([sys.executable, "-m", "gatehouse", "account", "create", "--data", data,
                              "--account-id", "222233334444", "--json"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        other = json.loads(out.stdout)
        assert other["AccountId"] == "222233334444" and other["SecretAccessKey"]
        b_iam = ep.client("iam", other["AccessKeyId"], other["SecretAccessKey"])
        assert ep.client("sts", other["AccessKeyId"], other["SecretAccessKey"]).get_caller_identity()[
            "Account"] == "222233334444"
        role = b_iam.create_role(RoleName="shared", AssumeRolePolicyDocument=trust(ROOT))["Role"]["Arn"]
        b_iam.attach_role_policy(RoleName="shared", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        b_iam.create_role(RoleName="private", AssumeRolePolicyDocument=trust(
            {"AWS": "arn:aws:iam::222233334444:root"}))
        a_iam = ep.client("iam")
        with_policy = ep.client("sts", *user_with(a_iam, "traveller", ASSUMER))
        without = ep.client("sts", *user_with(a_iam, "stayer"))
        creds = with_policy.assume_role(RoleArn=role, RoleSessionName="visit")["Credentials"]
        visitor = ep.client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], token=creds["SessionToken"])
        assert [r["RoleName"] for r in visitor.list_roles()["Roles"]] == ["private", "shared"]  # B's roles
        assert code(visitor.create_user, UserName="x") == "AccessDenied"
        assert code(without.assume_role, RoleArn=role, RoleSessionName="xx") == "AccessDenied"
        assert code(with_policy.assume_role, RoleArn="arn:aws:iam::222233334444:role/private",
                    RoleSessionName="xx") == "AccessDenied"
        # Another account's user, held by this Gatehouse too, is checked and bound like one of B's own.
        traveller = f"arn:aws:iam::{ACCOUNT}:user/traveller"
        b_iam.update_assume_role_policy(RoleName="private", PolicyDocument=trust({"AWS": traveller}))
        with_policy.assume_role(RoleArn="arn:aws:iam::222233334444:role/private", RoleSessionName="xx")
        assert code(b_iam.update_assume_role_policy, RoleName="private", PolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:user/nobody"})) == "MalformedPolicyDocument"
        # The second account is separate: A's users are not B's.
        assert code(b_iam.get_user, UserName="traveller") == "NoSuchEntity"
        # A denial's encoded message opens only in its own account.
        with pytest.raises(ClientError) as info:
            ep.client("iam", *user_with(a_iam, "denied-in-a")).list_roles()
        encoded = info.value.response["Error"]["EncodedAuthorizationMessage"]
        b_sts = ep.client("sts", other["AccessKeyId"], other["SecretAccessKey"])
        assert code(b_sts.decode_authorization_message, EncodedMessage=encoded) == \
            "InvalidAuthorizationMessageException"
        assert ep.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
