"""Tags on every taggable IAM entity (users, roles, customer managed policies, instance profiles): tag at
creation, TagX merge semantics, UntagX, ListXTags paging, the 50-tag limit, duplicate and reserved keys, keys
compared without case on users and roles but with case on the others, and validation of keys and values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.iam_support import ARN, POLICY, TRUST, collect, rejected, status_of
from tests.support.servers import Endpoint

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Taggable:
    noun: str  # as in TagUser, ListUserTags
    entity: str  # the entity noun (AWS's LimitExceeded message for tags does not name it)
    create: Callable[..., Any]
    id_param: str
    id_of: Callable[[str], str]
    ignore_case: bool  # AWS: user and role tag keys compare without case; every other kind's keys with case

    def ident(self, name: str) -> dict[str, str]:
        return {self.id_param: self.id_of(name)}

    def tag(self, iam: Any, name: str, tags: list[dict[str, str]]) -> Any:
        return getattr(iam, f"tag_{self.noun}")(**self.ident(name), Tags=tags)

    def untag(self, iam: Any, name: str, keys: list[str]) -> Any:
        return getattr(iam, f"untag_{self.noun}")(**self.ident(name), TagKeys=keys)

    def lister(self, iam: Any) -> Callable[..., Any]:
        return getattr(iam, f"list_{self.noun}_tags")

    def tags(self, iam: Any, name: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in collect(self.lister(iam), "Tags", **self.ident(name))}


TAGGABLES = [
    Taggable("user", "user", lambda iam, n, **kw: iam.create_user(UserName=n, **kw), "UserName", lambda n: n, True),
    Taggable("role", "role", lambda iam, n, **kw: iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST, **kw),
             "RoleName", lambda n: n, True),
    Taggable("policy", "policy", lambda iam, n, **kw: iam.create_policy(PolicyName=n, PolicyDocument=POLICY, **kw),
             "PolicyArn", lambda n: f"{ARN}:policy/{n}", False),
    Taggable("instance_profile", "instance profile",
             lambda iam, n, **kw: iam.create_instance_profile(InstanceProfileName=n, **kw), "InstanceProfileName",
             lambda n: n, False),
]
_ids = [t.noun for t in TAGGABLES]


def _tags(n: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": f"v{i}"} for i in range(n)]


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_tag_untag_list(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "e", Tags=[{"Key": "team", "Value": "blue"}])
    assert kind.tags(iam, "e") == {"team": "blue"}
    kind.tag(iam, "e", [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "red"}])
    assert kind.tags(iam, "e") == {"team": "red", "env": "prod"}
    kind.untag(iam, "e", ["team", "not-there"])
    assert kind.tags(iam, "e") == {"env": "prod"}
    kind.tag(iam, "e", [{"Key": "empty", "Value": ""}])
    assert kind.tags(iam, "e") == {"env": "prod", "empty": ""}


@pytest.mark.parametrize("kind", [t for t in TAGGABLES if t.ignore_case], ids=lambda t: t.noun)
def test_user_and_role_keys_compare_without_case(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "e", Tags=[{"Key": "Env", "Value": "a"}])
    kind.tag(iam, "e", [{"Key": "ENV", "Value": "b"}])
    tags = kind.tags(iam, "e")
    assert len(tags) == 1 and next(iter(tags.values())) == "b" and next(iter(tags)).lower() == "env"
    kind.untag(iam, "e", ["env"])
    assert kind.tags(iam, "e") == {}


@pytest.mark.parametrize("kind", [t for t in TAGGABLES if not t.ignore_case], ids=lambda t: t.noun)
def test_other_keys_compare_with_case(iam: Any, kind: Taggable) -> None:
    """IAM User Guide, "Rules for tagging in IAM and AWS STS": keys of customer managed policies, instance profiles,
    OIDC and SAML providers, server certificates and virtual MFA devices are case sensitive (Costcenter and
    costcenter are two tags). LocalStack's AWS-validated test_iam_policies.snapshot.json (TestPolicyTags) records it
    for policies: CreatePolicy keeps a and A, UntagPolicy of a leaves A."""
    kind.create(iam, "e", Tags=[{"Key": "a", "Value": "lowercase"}, {"Key": "A", "Value": "uppercase"}])
    assert kind.tags(iam, "e") == {"a": "lowercase", "A": "uppercase"}
    kind.tag(iam, "e", [{"Key": "Env", "Value": "1"}, {"Key": "ENV", "Value": "2"}, {"Key": "a", "Value": "new"}])
    assert kind.tags(iam, "e") == {"a": "new", "A": "uppercase", "Env": "1", "ENV": "2"}
    kind.untag(iam, "e", ["a", "env"])
    assert kind.tags(iam, "e") == {"A": "uppercase", "Env": "1", "ENV": "2"}


def test_policy_tags_are_listed_by_key(iam: Any) -> None:
    """ListPolicyTags answers in key order ("A" before "a"), whatever order they were given in (LocalStack's
    AWS-validated snapshot, "list-case-sensitive-tags"); CreatePolicy echoes the request's order."""
    created = iam.create_policy(PolicyName="p", PolicyDocument=POLICY, Tags=[
        {"Key": "a", "Value": "lowercase"}, {"Key": "b", "Value": "2"}, {"Key": "A", "Value": "uppercase"}])
    assert [t["Key"] for t in created["Policy"]["Tags"]] == ["a", "b", "A"]
    listed = iam.list_policy_tags(PolicyArn=f"{ARN}:policy/p")["Tags"]
    assert listed == [{"Key": "A", "Value": "uppercase"}, {"Key": "a", "Value": "lowercase"},
                      {"Key": "b", "Value": "2"}]


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_fifty_tags_at_most(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "full", Tags=_tags(50))
    assert len(kind.tags(iam, "full")) == 50
    response = rejected(iam, "LimitExceeded", kind.tag, iam, "full", [{"Key": "one-more", "Value": "x"}])
    # AWS's wording (LocalStack's AWS-validated test_iam_oidc.snapshot.json, "tags-limit-error").
    assert response["Error"]["Message"] == "The number of tags has reached the maximum limit."
    assert status_of(response) == 409
    kind.tag(iam, "full", [{"Key": "K0" if kind.ignore_case else "k0", "Value": "replaced"}])  # not adding
    assert len(kind.tags(iam, "full")) == 50
    if not kind.ignore_case:  # K0 is another key here: a 51st tag
        rejected(iam, "LimitExceeded", kind.tag, iam, "full", [{"Key": "K0", "Value": "x"}])
    rejected(iam, "ValidationError", kind.create, iam, "over", Tags=_tags(51))
    kind.create(iam, "half", Tags=_tags(30, "a"))
    rejected(iam, "LimitExceeded", kind.tag, iam, "half", _tags(21, "b"))
    kind.tag(iam, "half", _tags(20, "b"))
    assert len(kind.tags(iam, "half")) == 50


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_duplicate_and_reserved_keys(iam: Any, kind: Taggable) -> None:
    exact = [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}]
    response = rejected(iam, "InvalidInput", kind.create, iam, "x", Tags=exact)
    # With the case note for users and roles; without it where keys are case sensitive (LocalStack's AWS-validated
    # test_iam_policies.snapshot.json, "err-duplicate-keys": "Duplicate tag keys found.").
    assert response["Error"]["Message"] == ("Duplicate tag keys found. Please note that Tag keys are case insensitive."
                                            if kind.ignore_case else "Duplicate tag keys found.")
    kind.create(iam, "e")
    rejected(iam, "InvalidInput", kind.tag, iam, "e", exact)
    if kind.ignore_case:
        rejected(iam, "InvalidInput", kind.tag, iam, "e", [{"Key": "dup", "Value": "1"}, {"Key": "DUP", "Value": "2"}])
    rejected(iam, "InvalidInput", kind.tag, iam, "e", [{"Key": "aws:reserved", "Value": "x"}])
    rejected(iam, "InvalidInput", kind.tag, iam, "e", [{"Key": "AWS:Reserved", "Value": "x"}])
    rejected(iam, "InvalidInput", kind.create, iam, "y", Tags=[{"Key": "aws:x", "Value": "1"}])


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_key_and_value_validation(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "e")
    rejected(iam, "ValidationError", kind.tag, iam, "e", [{"Key": "k" * 129, "Value": "v"}])
    rejected(iam, "ValidationError", kind.tag, iam, "e", [{"Key": "k", "Value": "v" * 257}])
    rejected(iam, "ValidationError", kind.tag, iam, "e", [{"Key": "bad*key", "Value": "v"}])
    rejected(iam, "ValidationError", kind.tag, iam, "e", [{"Key": "k", "Value": "bad#value"}])
    rejected(iam, "ValidationError", kind.untag, iam, "e", ["k" * 129])
    kind.tag(iam, "e", [{"Key": "k" * 128, "Value": "v" * 256}, {"Key": "Ünïcode :/=+-@_.", "Value": "ß 1"}])
    assert kind.tags(iam, "e") == {"k" * 128: "v" * 256, "Ünïcode :/=+-@_.": "ß 1"}


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_missing_entity(iam: Any, kind: Taggable) -> None:
    rejected(iam, "NoSuchEntity", kind.tag, iam, "ghost", [{"Key": "a", "Value": "b"}])
    rejected(iam, "NoSuchEntity", kind.untag, iam, "ghost", ["a"])
    rejected(iam, "NoSuchEntity", kind.lister(iam), **kind.ident("ghost"))


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_list_tags_pages(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "e", Tags=_tags(23))
    listed = collect(kind.lister(iam), "Tags", **kind.ident("e"), MaxItems=5)
    assert len(listed) == 23 and {t["Key"] for t in listed} == {f"k{i}" for i in range(23)}
    rejected(iam, "ValidationError", kind.lister(iam), **kind.ident("e"), Marker="not-a-marker")


def test_tags_show_in_get_and_authorization_details(iam: Any) -> None:
    iam.create_user(UserName="u", Tags=[{"Key": "a", "Value": "1"}])
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "b", "Value": "2"}])
    iam.tag_user(UserName="u", Tags=[{"Key": "c", "Value": "3"}])
    assert {t["Key"] for t in iam.get_user(UserName="u")["User"]["Tags"]} == {"a", "c"}
    assert iam.get_role(RoleName="r")["Role"]["Tags"] == [{"Key": "b", "Value": "2"}]
    details = iam.get_account_authorization_details(Filter=["User", "Role"])
    assert {t["Key"] for t in details["UserDetailList"][0]["Tags"]} == {"a", "c"}
    assert details["RoleDetailList"][0]["Tags"] == [{"Key": "b", "Value": "2"}]


def test_tags_belong_to_one_entity(iam: Any) -> None:
    iam.create_user(UserName="same", Tags=[{"Key": "who", "Value": "user"}])
    iam.create_role(RoleName="same", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "who", "Value": "role"}])
    iam.create_instance_profile(InstanceProfileName="same")
    assert iam.list_user_tags(UserName="same")["Tags"] == [{"Key": "who", "Value": "user"}]
    assert iam.list_role_tags(RoleName="same")["Tags"] == [{"Key": "who", "Value": "role"}]
    assert iam.list_instance_profile_tags(InstanceProfileName="same")["Tags"] == []


# --- TagX/UntagX as a model: a map from lower-cased key to value ----------------------------------------------

_KEY = st.sampled_from(["env", "Env", "ENV", "team", "Team", "cost", "owner", "a", "A", "b"])
_VALUE = st.sampled_from(["", "x", "prod", "blue"])
_OP = st.one_of(
    st.tuples(st.just("tag"), st.lists(st.tuples(_KEY, _VALUE), min_size=1, max_size=4,
                                       unique_by=lambda kv: kv[0].lower())),
    st.tuples(st.just("untag"), st.lists(_KEY, min_size=1, max_size=3)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(st.tuples(_KEY, _VALUE), max_size=4, unique_by=lambda kv: kv[0].lower()),
       ops=st.lists(_OP, max_size=6))
def test_tag_merge_semantics(dev_server: Endpoint, initial: list[tuple[str, str]],
                             ops: list[tuple[str, Any]]) -> None:
    dev_server.reset()
    iam = dev_server.client("iam")
    iam.create_user(UserName="subject", Tags=[{"Key": k, "Value": v} for k, v in initial])
    model = {k.lower(): v for k, v in initial}
    for op, arg in ops:
        if op == "tag":
            iam.tag_user(UserName="subject", Tags=[{"Key": k, "Value": v} for k, v in arg])
            model.update({k.lower(): v for k, v in arg})
        else:
            iam.untag_user(UserName="subject", TagKeys=arg)
            for k in arg:
                model.pop(k.lower(), None)
    listed = iam.list_user_tags(UserName="subject")["Tags"]
    assert {t["Key"].lower(): t["Value"] for t in listed} == model
    assert len(listed) == len(model)
