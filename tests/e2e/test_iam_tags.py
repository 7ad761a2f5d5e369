"""Tags on every taggable IAM entity (users, roles, customer managed policies, instance profiles): tag at
creation, TagX merge semantics, UntagX, ListXTags paging, the 50-tag limit, duplicate and reserved keys,
case-insensitive keys, and validation of keys and values."""

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
    Taggable("user", "user", lambda iam, n, **kw: iam.create_user(UserName=n, **kw), "UserName", lambda n: n),
    Taggable("role", "role", lambda iam, n, **kw: iam.create_role(RoleName=n, AssumeRolePolicyDocument=TRUST, **kw),
             "RoleName", lambda n: n),
    Taggable("policy", "policy", lambda iam, n, **kw: iam.create_policy(PolicyName=n, PolicyDocument=POLICY, **kw),
             "PolicyArn", lambda n: f"{ARN}:policy/{n}"),
    Taggable("instance_profile", "instance profile",
             lambda iam, n, **kw: iam.create_instance_profile(InstanceProfileName=n, **kw), "InstanceProfileName",
             lambda n: n),
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


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_keys_compare_without_case(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "e", Tags=[{"Key": "Env", "Value": "a"}])
    kind.tag(iam, "e", [{"Key": "ENV", "Value": "b"}])
    tags = kind.tags(iam, "e")
    assert len(tags) == 1 and next(iter(tags.values())) == "b" and next(iter(tags)).lower() == "env"
    kind.untag(iam, "e", ["env"])
    assert kind.tags(iam, "e") == {}


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_fifty_tags_at_most(iam: Any, kind: Taggable) -> None:
    kind.create(iam, "full", Tags=_tags(50))
    assert len(kind.tags(iam, "full")) == 50
    response = rejected(iam, "LimitExceeded", kind.tag, iam, "full", [{"Key": "one-more", "Value": "x"}])
    # AWS's wording (LocalStack's AWS-validated test_iam_oidc.snapshot.json, "tags-limit-error").
    assert response["Error"]["Message"] == "The number of tags has reached the maximum limit."
    assert status_of(response) == 409
    kind.tag(iam, "full", [{"Key": "K0", "Value": "replaced"}])  # replacing is not adding
    assert len(kind.tags(iam, "full")) == 50
    rejected(iam, "ValidationError", kind.create, iam, "over", Tags=_tags(51))
    kind.create(iam, "half", Tags=_tags(30, "a"))
    rejected(iam, "LimitExceeded", kind.tag, iam, "half", _tags(21, "b"))
    kind.tag(iam, "half", _tags(20, "b"))
    assert len(kind.tags(iam, "half")) == 50


@pytest.mark.parametrize("kind", TAGGABLES, ids=_ids)
def test_duplicate_and_reserved_keys(iam: Any, kind: Taggable) -> None:
    duplicate = [{"Key": "dup", "Value": "1"}, {"Key": "DUP", "Value": "2"}]
    response = rejected(iam, "InvalidInput", kind.create, iam, "x", Tags=duplicate)
    assert response["Error"]["Message"] == (
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    kind.create(iam, "e")
    rejected(iam, "InvalidInput", kind.tag, iam, "e", duplicate)
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
