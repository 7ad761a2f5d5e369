"""Trust policies bind the IAM users and roles they name to unique ids, as AWS's do (IAM User Guide, role trust
policy examples: "When you save the policy, AWS transforms the ARN to a unique principal ID ... if you delete the
role or user ... the principal ID shows up ... The policy no longer applies, even if you recreate the user or
role"). In process, over the services and a real store: SQLite in memory, and for the migration SQLite files and
PostgreSQL schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from gatehouse.errors import AccessDenied, MalformedPolicyDocument
from gatehouse.model import Account, Caller, PrincipalKind, RequestMeta, SessionInfo, SessionKind
from gatehouse.policy import (
    DecisionKind,
    LabelledPolicy,
    PolicyKind,
    PolicySet,
    PolicyType,
    Principal,
    RequestContext,
    bind_principals,
    compile_policy,
    evaluate,
    parse,
)
from gatehouse.services.authorization import Authorizer
from gatehouse.services.clock import system_clock
from gatehouse.services.iam.account import AccountOps
from gatehouse.services.iam.aws_managed import AwsManagedPolicies
from gatehouse.services.iam.common import IamDeps
from gatehouse.services.iam.documents import PolicyDocuments
from gatehouse.services.iam.entity_policies import EntityPolicies
from gatehouse.services.iam.instance_profiles import InstanceProfiles
from gatehouse.services.iam.roles import Roles
from gatehouse.services.iam.users import Users
from gatehouse.services.secretbox import SecretBox, new_master_key, parse_master_key
from gatehouse.services.session_tokens import SessionTokens
from gatehouse.services.sts import Sts, StsDeps
from gatehouse.storage.sql.engine import make_engine, sqlite_url
from gatehouse.storage.sql.migrate import alembic_config
from gatehouse.storage.sql.store import SqlStore

A, B, ELSEWHERE = "111111111111", "222222222222", "333333333333"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ALLOW_ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})


def trust(*aws: str, condition_arn: str | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": list(aws) if len(aws) > 1 else aws[0]},
                                 "Action": "sts:AssumeRole"}
    if condition_arn:
        statement["Condition"] = {"ArnEquals": {"aws:PrincipalArn": condition_arn}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class _NoMfa:
    def verify_code(self, account_id: str, serial_number: str, code: str, user_id: str | None) -> bool:
        return False


@dataclass
class World:
    store: SqlStore
    users: Users
    roles: Roles
    inline: EntityPolicies
    profiles: InstanceProfiles
    account: AccountOps
    sts: Sts

    def root(self, account: str = A) -> Caller:
        return Caller(account_id=account, kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{account}:root",
                      user_id=account, name="root", access_key_id="AKIAROOTROOTROOTROOT", request=RequestMeta("r"))

    def user(self, name: str, account: str = A) -> Caller:
        """A user's caller (a new user, with sts:AssumeRole allowed by its own policy)."""
        made = self.users.create_user(self.root(account), name)["User"]
        self.inline.put_user_policy(self.root(account), name, "assume", ALLOW_ASSUME)
        return Caller(account_id=account, kind=PrincipalKind.USER, arn=made["Arn"], user_id=made["UserId"],
                      name=name, access_key_id="AKIAUSERUSERUSERUSER", request=RequestMeta("r"),
                      principal_id=made["UserId"])

    def gone(self, name: str, account: str = A) -> None:
        self.inline.delete_user_policy(self.root(account), name, "assume")
        self.users.delete_user(self.root(account), name)

    def assume(self, caller: Caller, role: str = "Deploy", account: str = A) -> bool:
        try:
            self.sts.assume_role(caller, f"arn:aws:iam::{account}:role/{role}", "s")
        except AccessDenied:
            return False
        return True

    def shown(self, role: str = "Deploy") -> Any:
        document = self.roles.get_role(self.root(), role)["Role"]["AssumeRolePolicyDocument"]
        return json.loads(urllib.parse.unquote(document))


def _world(store: SqlStore) -> World:
    key = parse_master_key(new_master_key())
    managed = AwsManagedPolicies()
    authz = Authorizer(managed)
    deps = IamDeps(store=store, authz=authz, box=SecretBox(key), documents=PolicyDocuments(), managed=managed,
                   clock=system_clock)
    sts = Sts(StsDeps(store=store, authz=authz, tokens=SessionTokens(key), managed=managed, clock=system_clock,
                      mfa=_NoMfa()))
    return World(store, Users(deps), Roles(deps), EntityPolicies(deps), InstanceProfiles(deps), AccountOps(deps), sts)


@pytest.fixture
def world() -> Iterator[World]:
    store = SqlStore("sqlite://")
    for account in (A, B):
        store.create_account(Account(account_id=account, created=T0))
    yield _world(store)
    store.close()


# --- saving binds ---------------------------------------------------------------------------------------------


def test_saving_a_trust_policy_keeps_each_named_user_and_role_with_its_unique_id(world: World) -> None:
    alice = world.user("alice")
    world.roles.create_role(world.root(), "Ci", trust(f"arn:aws:iam::{A}:root"))
    ci_id = world.roles.get_role(world.root(), "Ci")["Role"]["RoleId"]
    document = trust(alice.arn, f"arn:aws:iam::{A}:role/Ci", f"arn:aws:iam::{ELSEWHERE}:user/far")
    world.roles.create_role(world.root(), "Deploy", document)
    with world.store.read(A) as tx:
        role = tx.roles.get("Deploy")
    assert role is not None and role.trust_policy == document  # the text is kept as written
    # An account this Gatehouse does not hold cannot be looked up: its ARN stays as written (matched as text).
    assert dict(role.trust_principals) == {alice.arn: alice.user_id, f"arn:aws:iam::{A}:role/Ci": ci_id}
    assert world.shown()["Statement"][0]["Principal"]["AWS"][:2] == [alice.arn, f"arn:aws:iam::{A}:role/Ci"]
    assert world.assume(alice)


def test_a_principal_that_does_not_exist_is_refused_on_save(world: World) -> None:
    missing = f"arn:aws:iam::{A}:user/nobody"
    with pytest.raises(MalformedPolicyDocument, match=f'Invalid principal in policy: "AWS":"{missing}"'):
        world.roles.create_role(world.root(), "Deploy", trust(missing))
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal in policy"):  # held account, no such user
        world.roles.create_role(world.root(), "Deploy", trust(f"arn:aws:iam::{B}:user/nobody"))
    world.user("alice")
    with pytest.raises(MalformedPolicyDocument, match="Invalid principal in policy"):  # another partition
        world.roles.create_role(world.root(), "Deploy", trust(f"arn:aws-cn:iam::{A}:user/alice"))


# --- deletion and re-creation ---------------------------------------------------------------------------------


def test_a_deleted_principal_shows_as_its_unique_id_and_a_recreated_one_is_not_trusted(world: World) -> None:
    deployer = world.user("deployer")
    world.roles.create_role(world.root(), "Deploy", trust(deployer.arn, condition_arn=deployer.arn))
    world.profiles.create_instance_profile(world.root(), "box")
    world.profiles.add_role_to_instance_profile(world.root(), "box", "Deploy")
    assert world.assume(deployer)
    world.gone("deployer")

    shown = world.shown()
    assert shown["Statement"][0]["Principal"]["AWS"] == deployer.user_id
    # Only the binding changes: the same ARN in a condition is text.
    assert shown["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == deployer.arn
    listed = world.roles.list_roles(world.root())["Roles"][0]["AssumeRolePolicyDocument"]
    details = world.account.get_account_authorization_details(world.root(), ["Role"])["RoleDetailList"][0]
    profile = world.profiles.get_instance_profile(world.root(), "box")["InstanceProfile"]["Roles"][0]
    for document in (listed, details["AssumeRolePolicyDocument"], profile["AssumeRolePolicyDocument"],
                     details["InstanceProfileList"][0]["Roles"][0]["AssumeRolePolicyDocument"]):
        assert json.loads(urllib.parse.unquote(document)) == shown

    again = world.user("deployer")
    assert again.arn == deployer.arn and again.user_id != deployer.user_id
    assert not world.assume(again)
    assert world.shown()["Statement"][0]["Principal"]["AWS"] == deployer.user_id  # the new user is not the old
    # Saving the ARN again binds the new user, as in AWS.
    world.roles.update_assume_role_policy(world.root(), "Deploy", trust(again.arn))
    assert world.assume(again)


def test_a_session_outliving_its_deleted_user_is_not_trusted_through_the_old_id(world: World) -> None:
    deployer = world.user("deployer")
    world.roles.create_role(world.root(), "Deploy", trust(deployer.arn))
    now = dt.datetime.now(dt.UTC)
    session = dataclasses.replace(deployer, access_key_id="ASIAUSERSESSIONUSERS", session=SessionInfo(
        kind=SessionKind.USER_SESSION, issued=now, expires=now + dt.timedelta(hours=1)))
    assert world.assume(session)
    world.gone("deployer")
    assert not world.assume(session)


def test_the_shown_id_cannot_be_saved_back(world: World) -> None:
    """AWS accepts ARNs, account ids and `*` as AWS principals; a bare unique id is refused like any other value."""
    gone = world.user("gone")
    world.roles.create_role(world.root(), "Deploy", trust(gone.arn))
    world.gone("gone")
    with pytest.raises(MalformedPolicyDocument, match=f'"AWS":"{gone.user_id}"'):
        world.roles.update_assume_role_policy(world.root(), "Deploy", json.dumps(world.shown()))


def test_a_trusted_role_recreated_under_its_name_is_not_trusted(world: World) -> None:
    world.roles.create_role(world.root(), "Ci", trust(f"arn:aws:iam::{A}:root"))
    world.roles.create_role(world.root(), "Deploy", trust(f"arn:aws:iam::{A}:role/Ci"))
    old_id = world.roles.get_role(world.root(), "Ci")["Role"]["RoleId"]
    old_session = Caller(account_id=A, kind=PrincipalKind.ASSUMED_ROLE, arn=f"arn:aws:sts::{A}:assumed-role/Ci/s",
                         user_id=f"{old_id}:s", name="s", access_key_id="ASIASESSIONSESSIONSS",
                         request=RequestMeta("r"), principal_id=old_id)
    assert world.assume(old_session)  # a session of the trusted role: trusted through its role's id
    world.roles.delete_role(world.root(), "Ci")
    assert world.shown()["Statement"][0]["Principal"]["AWS"] == old_id
    world.roles.create_role(world.root(), "Ci", trust(f"arn:aws:iam::{A}:root"))
    new_id = world.roles.get_role(world.root(), "Ci")["Role"]["RoleId"]
    # A session of the new Ci is not what Deploy trusts (the trust names the old role's id).
    session = Caller(account_id=A, kind=PrincipalKind.ASSUMED_ROLE, arn=f"arn:aws:sts::{A}:assumed-role/Ci/s",
                     user_id=f"{new_id}:s", name="s", access_key_id="ASIASESSIONSESSIONSS", request=RequestMeta("r"),
                     principal_id=new_id)
    world.inline.put_role_policy(world.root(), "Ci", "assume", ALLOW_ASSUME)
    assert not world.assume(session)
    assert not world.assume(old_session)  # a deleted role's sessions carry no identity


def test_a_renamed_user_is_still_trusted_and_shown_by_its_new_name(world: World) -> None:
    alice = world.user("alice")
    world.roles.create_role(world.root(), "Deploy", trust(alice.arn))
    world.users.update_user(world.root(), "alice", new_user_name="alicia", new_path="/team/")
    assert world.shown()["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{A}:user/team/alicia"
    renamed = Caller(account_id=A, kind=PrincipalKind.USER, arn=f"arn:aws:iam::{A}:user/team/alicia",
                     user_id=alice.user_id, name="alicia", access_key_id=alice.access_key_id,
                     request=RequestMeta("r"), principal_id=alice.user_id)
    assert world.assume(renamed)
    assert not world.assume(world.user("alice"))  # the old name again: another user, not trusted


def test_another_accounts_principal_held_here_is_bound_too(world: World) -> None:
    bob = world.user("bob", B)
    world.roles.create_role(world.root(), "Deploy", trust(bob.arn))
    with world.store.read(A) as tx:
        role = tx.roles.get("Deploy")
    assert role is not None and role.trust_principals == ((bob.arn, bob.user_id),)
    assert world.assume(bob)
    world.gone("bob", B)
    assert world.shown()["Statement"][0]["Principal"]["AWS"] == bob.user_id
    assert not world.assume(world.user("bob", B))


def test_many_bound_ids_are_looked_up_in_bounded_batches(world: World) -> None:
    alice = world.user("alice")
    with world.store.read(A) as tx:
        found = tx.principals.by_ids([f"AIDA{n:017d}" for n in range(1000)] + [alice.user_id])
    assert list(found) == [alice.user_id] and found[alice.user_id].arn("aws") == alice.arn


# --- the engine: bound values match by id, purely --------------------------------------------------------------


def test_a_bound_policy_matches_the_id_not_the_name() -> None:
    arn = "arn:aws:iam::123456789012:user/deployer"
    policy = parse(trust(arn), kind=PolicyKind.TRUST)
    bound = bind_principals(policy, {arn: "AIDAOLDOLDOLDOLDOLD00"})
    assert bound.digest != policy.digest and bind_principals(policy, {}) is policy
    resource = LabelledPolicy(compile_policy(bound), "trust", PolicyType.TRUST)

    def decide(unique_id: str | None) -> DecisionKind:
        principal = Principal.from_arn(arn, user_id=unique_id, unique_id=unique_id)
        ctx = RequestContext(principal, "sts:AssumeRole", "arn:aws:iam::123456789012:role/Deploy",
                             resource_account="123456789012")
        return evaluate(PolicySet(resource=resource), ctx).kind

    assert decide("AIDAOLDOLDOLDOLDOLD00") is DecisionKind.ALLOW
    assert decide("AIDANEWNEWNEWNEWNEW00") is not DecisionKind.ALLOW
    assert decide(None) is not DecisionKind.ALLOW


# --- the migration binds what is already stored ----------------------------------------------------------------


@pytest.fixture(params=["file", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Any, pg_schema_factory: Any) -> str:
    """A database at migration 0002 (before bindings), as an earlier Gatehouse left it."""
    url = sqlite_url(str(tmp_path / "gatehouse.db")) if request.param == "file" else pg_schema_factory()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            conn.commit()
    finally:
        engine.dispose()
    return url


def test_the_migration_binds_the_principals_of_stored_trust_policies(old_database: str) -> None:
    engine = make_engine(old_database)
    created = T0.replace(tzinfo=None)
    user_arn, role_arn = f"arn:aws:iam::{A}:user/team/alice", f"arn:aws:iam::{A}:role/Ci"
    gone_arn, cross_arn = f"arn:aws:iam::{A}:user/gone", f"arn:aws:iam::{B}:user/bob"
    stored = trust(user_arn, role_arn, gone_arn, cross_arn, f"arn:aws:iam::{ELSEWHERE}:user/far", "*")
    with engine.begin() as conn:
        for account in (A, B):
            conn.execute(sa.text("INSERT INTO accounts (account_id, revision, created, sts_token_version) "
                                 "VALUES (:a, 0, :t, 'v1Token')"), {"a": account, "t": created})
        users = [("AIDAALICEALICEALICE00", A, "alice", "/team/"), ("AIDABOBBOBBOBBOBBOB00", B, "bob", "/")]
        for uid, account, name, path in users:
            conn.execute(sa.text("INSERT INTO users (user_id, account_id, name, name_key, path, created) "
                                 "VALUES (:i, :a, :n, :k, :p, :t)"),
                         {"i": uid, "a": account, "n": name, "k": name.lower(), "p": path, "t": created})
        for rid, name, document in (("AROACICICICICICICI000", "Ci", trust(f"arn:aws:iam::{A}:root")),
                                    ("AROADEPLOYDEPLOYDEP00", "Deploy", stored),
                                    ("AROASERVICESERVICE000", "Svc", '{"Statement": "not a policy"}')):
            conn.execute(sa.text("INSERT INTO roles (role_id, account_id, name, name_key, path, created, "
                                 "trust_policy, max_session_duration) VALUES (:i, :a, :n, :k, '/', :t, :d, 3600)"),
                         {"i": rid, "a": A, "n": name, "k": name.lower(), "t": created, "d": document})
    engine.dispose()

    store = SqlStore(old_database)  # migrates on start
    try:
        with store.read(A) as tx:
            deploy, ci, svc = tx.roles.get("Deploy"), tx.roles.get("Ci"), tx.roles.get("Svc")
        assert deploy is not None and ci is not None and svc is not None
        assert deploy.trust_policy == stored
        # Bound: the principals that exist (another account's too); the one already gone and the one elsewhere
        # cannot be, and stay as written.
        assert dict(deploy.trust_principals) == {user_arn: "AIDAALICEALICEALICE00", role_arn: "AROACICICICICICICI000",
                                                 cross_arn: "AIDABOBBOBBOBBOBBOB00"}
        assert ci.trust_principals == () and svc.trust_principals == ()
        world = _world(store)
        world.users.delete_user(world.root(), "alice")
        assert world.shown()["Statement"][0]["Principal"]["AWS"][:2] == ["AIDAALICEALICEALICE00", role_arn]
        world.roles.update_assume_role_policy(world.root(), "Deploy", trust(cross_arn, role_arn))
        with store.read(A) as tx:
            deploy = tx.roles.get("Deploy")
        assert deploy is not None and deploy.trust_principals == (
            (cross_arn, "AIDABOBBOBBOBBOBBOB00"), (role_arn, "AROACICICICICICICI000"))
    finally:
        store.close()
