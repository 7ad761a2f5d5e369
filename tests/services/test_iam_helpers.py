"""Pure helpers of the IAM use cases: tag rules, policy sizes, policy ARNs, service-linked role names, paging
markers, partitions and the document encoding of the wire views."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.errors import InvalidInput, LimitExceeded, MalformedPolicyDocument, ValidationError
from gatehouse.model import OwnerKind, Tag, User, partition_for_region
from gatehouse.services.iam.common import MAX_TAGS, checked_tags, listing, merged_tags, tag_page, without_tags
from gatehouse.services.iam.documents import PolicyDocuments, policy_size
from gatehouse.services.iam.managed_policies import arn_suffix
from gatehouse.services.iam.policy_refs import parse_policy_arn
from gatehouse.services.iam.service_linked import linked_role_name
from gatehouse.services.iam.views import encode_document, user_view
from gatehouse.storage.markers import decode_marker, encode_marker
from gatehouse.storage.repository import StaleMarker

# --- tags ------------------------------------------------------------------------------------------------


_FOLDED = (OwnerKind.USER, OwnerKind.ROLE)  # AWS compares these entities' tag keys without case
_EXACT = (OwnerKind.POLICY, OwnerKind.INSTANCE_PROFILE, OwnerKind.OIDC_PROVIDER, OwnerKind.SAML_PROVIDER,
          OwnerKind.SERVER_CERTIFICATE, OwnerKind.MFA_DEVICE)


def test_every_taggable_kind_has_a_case_rule() -> None:
    """IAM User Guide, "Rules for tagging in IAM and AWS STS": user and role tag keys are not case sensitive; those
    of customer managed policies, instance profiles, OIDC and SAML providers, server certificates and virtual MFA
    devices are."""
    assert all(kind.tag_keys_ignore_case for kind in _FOLDED)
    assert not any(kind.tag_keys_ignore_case for kind in _EXACT)


@pytest.mark.parametrize("kind", _FOLDED + _EXACT)
def test_checked_tags_keep_order_and_values(kind: OwnerKind) -> None:
    assert checked_tags([{"Key": "b", "Value": "1"}, {"Key": "A", "Value": ""}], kind) == [Tag("b", "1"), Tag("A", "")]
    assert checked_tags(None, kind) == [] and checked_tags([], kind) == []


@pytest.mark.parametrize("kind", _FOLDED)
@pytest.mark.parametrize("tags", [
    [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}],
    [{"Key": "Key", "Value": "1"}, {"Key": "kEY", "Value": "2"}],
])
def test_checked_tags_reject_duplicate_keys_without_regard_to_case(tags: list[dict[str, str]], kind: OwnerKind
                                                                   ) -> None:
    with pytest.raises(InvalidInput, match=r"^Duplicate tag keys found\. Please note that Tag keys are case insens"):
        checked_tags(tags, kind)


@pytest.mark.parametrize("kind", _EXACT)
def test_checked_tags_of_case_sensitive_kinds(kind: OwnerKind) -> None:
    with pytest.raises(InvalidInput, match=r"^Duplicate tag keys found\.$"):
        checked_tags([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}], kind)
    assert checked_tags([{"Key": "Key", "Value": "1"}, {"Key": "kEY", "Value": "2"}], kind) == [
        Tag("Key", "1"), Tag("kEY", "2")]


@pytest.mark.parametrize("key", ["aws:x", "AWS:x", "Aws:Anything"])
@pytest.mark.parametrize("kind", [OwnerKind.USER, OwnerKind.POLICY])
def test_checked_tags_reject_reserved_prefix(key: str, kind: OwnerKind) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        checked_tags([{"Key": key, "Value": "v"}], kind)


def test_checked_tags_allow_aws_inside_a_key() -> None:
    assert checked_tags([{"Key": "my-aws:key", "Value": "v"}], OwnerKind.USER) == [Tag("my-aws:key", "v")]


_KEYS = st.sampled_from(["a", "A", "b", "B", "env", "Env", "team", "x1", "x2", "x3"])
_TAGS = st.lists(st.builds(Tag, _KEYS, st.sampled_from(["", "1", "2"])), max_size=8,
                 unique_by=lambda t: t.key.lower())
_EXACT_TAGS = st.lists(st.builds(Tag, _KEYS, st.sampled_from(["", "1", "2"])), max_size=8, unique_by=lambda t: t.key)


@given(existing=_TAGS, new=_TAGS, kind=st.sampled_from(_FOLDED))
def test_merged_tags_is_a_map_update_on_lower_cased_keys(existing: list[Tag], new: list[Tag], kind: OwnerKind) -> None:
    merged = merged_tags(existing, new, kind)
    model = {t.key.lower(): t.value for t in existing} | {t.key.lower(): t.value for t in new}
    assert {t.key.lower(): t.value for t in merged} == model
    assert len(merged) == len(model)
    # the keys that were not touched keep their original spelling
    touched = {t.key.lower() for t in new}
    assert {t.key for t in merged if t.key.lower() not in touched} == {
        t.key for t in existing if t.key.lower() not in touched}


@given(existing=_EXACT_TAGS, new=_EXACT_TAGS, kind=st.sampled_from(_EXACT))
def test_merged_tags_is_a_map_update_on_exact_keys(existing: list[Tag], new: list[Tag], kind: OwnerKind) -> None:
    merged = merged_tags(existing, new, kind)
    model = {t.key: t.value for t in existing} | {t.key: t.value for t in new}
    assert {t.key: t.value for t in merged} == model and len(merged) == len(model)


@given(existing=_TAGS, keys=st.lists(_KEYS, max_size=5), kind=st.sampled_from(_FOLDED))
def test_without_tags_drops_keys_without_regard_to_case(existing: list[Tag], keys: list[str], kind: OwnerKind
                                                         ) -> None:
    left = without_tags(existing, keys, kind)
    dropped = {k.lower() for k in keys}
    assert left == [t for t in existing if t.key.lower() not in dropped]


@given(existing=_EXACT_TAGS, keys=st.lists(_KEYS, max_size=5), kind=st.sampled_from(_EXACT))
def test_without_tags_drops_exact_keys(existing: list[Tag], keys: list[str], kind: OwnerKind) -> None:
    assert without_tags(existing, keys, kind) == [t for t in existing if t.key not in keys]


@given(n_existing=st.integers(0, MAX_TAGS), n_new=st.integers(0, MAX_TAGS), overlap=st.integers(0, MAX_TAGS))
def test_merged_tags_limit(n_existing: int, n_new: int, overlap: int) -> None:
    overlap = min(overlap, n_existing, n_new)
    existing = [Tag(f"k{i}", "old") for i in range(n_existing)]
    new = [Tag(f"K{i}", "new") for i in range(overlap)] + [Tag(f"n{i}", "new") for i in range(n_new - overlap)]
    total = n_existing + n_new - overlap
    if total > MAX_TAGS:
        with pytest.raises(LimitExceeded, match="The number of tags has reached the maximum limit"):
            merged_tags(existing, new, OwnerKind.ROLE)
    else:
        assert len(merged_tags(existing, new, OwnerKind.ROLE)) == total


@given(n=st.integers(0, 50), size=st.integers(1, 60))
def test_tag_page_walks_every_tag_once(n: int, size: int) -> None:
    tags = tuple(Tag(f"k{i}", str(i)) for i in range(n))
    seen: list[str] = []
    marker = None
    for _ in range(60):
        page = tag_page(tags, marker, size)
        assert len(page["Tags"]) <= size
        seen += [t["Key"] for t in page["Tags"]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert seen == [t.key for t in tags]


# --- documents -------------------------------------------------------------------------------------------


def test_policy_size_ignores_white_space() -> None:
    assert policy_size('{ "a" :\n\t"b c" }\r\n') == len('{"a":"bc"}')
    assert policy_size("") == 0


def _doc(pad: int) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/" + "x" * pad}]})


def test_inline_quota_counts_the_other_policies() -> None:
    docs = PolicyDocuments()
    one = _doc(900)
    docs.check_inline(one, "user", "u", [one])  # about 2 x 1,010
    with pytest.raises(LimitExceeded) as info:
        docs.check_inline(one, "user", "bob", [one, one])
    assert info.value.message == "Maximum policy size of 2048 bytes exceeded for user bob"
    docs.check_inline(one, "group", "g", [one, one, one, one])
    with pytest.raises(LimitExceeded, match="5120 bytes exceeded for group g"):
        docs.check_inline(one, "group", "g", [one] * 5)


def test_managed_and_trust_quotas() -> None:
    docs = PolicyDocuments()
    base = policy_size(_doc(0))
    docs.check_managed(_doc(6144 - base))
    with pytest.raises(LimitExceeded, match="PolicySize: 6144"):
        docs.check_managed(_doc(6145 - base))
    with pytest.raises(MalformedPolicyDocument):
        docs.check_managed('{"Version": "2012-10-17"}')


# --- ARNs and names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arn", "parts"), [
    ("arn:aws:iam::aws:policy/AdministratorAccess", ("aws", "aws", "/", "AdministratorAccess")),
    ("arn:aws-cn:iam::123456789012:policy/a/b/p+=,.@-_", ("aws-cn", "123456789012", "/a/b/", "p+=,.@-_")),
    ("arn:aws-us-gov:iam::123456789012:policy/p", ("aws-us-gov", "123456789012", "/", "p")),
])
def test_parse_policy_arn(arn: str, parts: tuple[str, str, str, str]) -> None:
    ref = parse_policy_arn(arn)
    assert (ref.partition, ref.account, ref.path, ref.name) == parts
    assert ref.aws_managed == (parts[1] == "aws")


@pytest.mark.parametrize("arn", [
    "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:user/u", "arn:aws:iam::12345:policy/p",
    "arn:aws:iam::123456789012:policy/", "arn:aws:iam::123456789012:policy/a b", "policy/p",
    "arn:other:iam::aws:policy/p",
])
def test_parse_policy_arn_rejects(arn: str) -> None:
    # An ARN of something else is InvalidInput; a value that is no ARN at all is ValidationError, as AWS answers
    # (LocalStack's AWS-validated test_iam_roles.snapshot.json).
    error = InvalidInput if arn.startswith("arn:") else ValidationError
    with pytest.raises(error, match=f"ARN {arn} is not valid."):
        parse_policy_arn(arn)


def test_arn_suffix_drops_the_partition() -> None:
    assert arn_suffix("arn:aws-cn:iam::123456789012:policy/p") == arn_suffix("arn:aws:iam::123456789012:policy/p")
    assert arn_suffix("no-colons") == "no-colons"


@pytest.mark.parametrize(("service", "suffix", "name"), [
    ("autoscaling.amazonaws.com", None, "AWSServiceRoleForAutoScaling"),
    ("elasticbeanstalk.amazonaws.com", None, "AWSServiceRoleForElasticBeanstalk"),
    ("autoscaling.amazonaws.com", "x", "AWSServiceRoleForAutoScaling_x"),
    ("spot.amazonaws.com", None, "AWSServiceRoleForEC2Spot"),  # not derived from the principal's text
])
def test_linked_role_names(service: str, suffix: str | None, name: str) -> None:
    assert linked_role_name(service, suffix) == name


def test_a_service_without_a_linked_role_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=r"Invalid service principal some-new-service\.amazonaws\.com"):
        linked_role_name("some-new-service.amazonaws.com", None)


@pytest.mark.parametrize(("region", "partition"), [
    ("us-east-1", "aws"), ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("us-isof-south-1", "aws-iso-f"),
    ("eu-isoe-west-1", "aws-iso-e"), ("", "aws"),
])
def test_partition_for_region(region: str, partition: str) -> None:
    assert partition_for_region(region) == partition


# --- markers and listings --------------------------------------------------------------------------------


@given(st.text())
def test_markers_round_trip(key: str) -> None:
    marker = encode_marker(key)
    assert decode_marker(marker) == key
    assert set(marker) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("marker", ["", "!!!", "bm90LW91cnM", "Zm9v"])
def test_foreign_markers_are_stale(marker: str) -> None:
    with pytest.raises(StaleMarker):
        decode_marker(marker)


def test_listing_defaults() -> None:
    default = listing()
    assert (default.path_prefix, default.after, default.limit) == ("/", None, 100)
    assert listing("/p/", "m", 5).limit == 5


# --- views -----------------------------------------------------------------------------------------------


@given(st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=255)))
def test_encode_document_round_trips_and_is_rfc3986(document: str) -> None:
    encoded = encode_document(document)
    assert urllib.parse.unquote(encoded) == document
    assert all(c.isascii() and (c.isalnum() or c in "-._~%") for c in encoded)


def test_user_view_list_and_full_shapes() -> None:
    user = User(account_id="123456789012", user_id="AIDAEXAMPLE", name="u", path="/p/",
                created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), permissions_boundary="arn:aws:iam::aws:policy/X",
                tags=(Tag("a", "b"),))
    short = user_view(user, "aws-cn")
    assert short == {"Path": "/p/", "UserName": "u", "UserId": "AIDAEXAMPLE",
                     "Arn": "arn:aws-cn:iam::123456789012:user/p/u", "CreateDate": user.created}
    full = user_view(user, "aws", full=True)
    assert full["Tags"] == [{"Key": "a", "Value": "b"}]
    assert full["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy",
                                           "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/X"}
