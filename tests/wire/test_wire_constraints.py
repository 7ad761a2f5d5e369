"""Model constraints as AWS reports them, on real IAM and STS shapes; and the Java → Python regex translation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.errors import ValidationError
from gatehouse.wire.constraints import (
    InputValidator,
    UnsupportedPattern,
    compile_java_regex,
    translate_java_regex,
    validation_message,
)
from gatehouse.wire.service_models import DEFAULT_SERVICES, ServiceModels

NAME_PATTERN = r"[\w+=,.@-]+"


def _errors(validator: InputValidator, models: ServiceModels, service: str, operation: str, params: dict) -> list[str]:
    op = models.operation(service, operation)
    assert op is not None
    return validator.errors(op, params)


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("iam", "CreateUser", {"UserName": "alice", "Path": "/eng/"}, []),
        (
            "iam",
            "CreateUser",
            {"UserName": "bad name!"},
            [
                f"Value at 'userName' failed to satisfy constraint: Member must satisfy regular expression "
                f"pattern: {NAME_PATTERN}"
            ],
        ),
        ("iam", "CreateUser", {}, ["Value null at 'userName' failed to satisfy constraint: Member must not be null"]),
        (
            "iam",
            "CreateUser",
            {"UserName": "u" * 65},
            [
                "Value at 'userName' failed to satisfy constraint: Member must have length less than or "
                "equal to 64"
            ],
        ),
        (
            "iam",
            "CreateUser",
            {"UserName": ""},
            [
                f"Value at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                f"{NAME_PATTERN}",
                "Value at 'userName' failed to satisfy constraint: Member must have length greater than or "
                "equal to 1",
            ],
        ),
        (
            "iam",
            "CreateUser",
            {"UserName": "ok", "Path": "no-slashes"},
            [
                "Value at 'path' failed to satisfy constraint: Member must satisfy regular expression "
                "pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
            ],
        ),
        (
            "iam",
            "CreateUser",
            {"UserName": "ok", "Tags": [{"Key": "team", "Value": "a|b"}, {"Key": "x"}]},
            [
                "Value at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular "
                "expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
                "Value null at 'tags.2.member.value' failed to satisfy constraint: Member must not be null",
            ],
        ),
        ("iam", "ListUsers", {"MaxItems": 1}, []),
        ("iam", "ListUsers", {"MaxItems": 1000}, []),
        (
            "iam",
            "ListUsers",
            {"MaxItems": 0},
            ["Value at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"],
        ),
        (
            "iam",
            "ListUsers",
            {"MaxItems": 1001},
            [
                "Value at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to "
                "1000"
            ],
        ),
        (
            "iam",
            "UpdateAccessKey",
            {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Enabled"},
            [
                "Value at 'status' failed to satisfy constraint: Member must satisfy enum value set: "
                "[Active, Inactive, Expired]"
            ],
        ),
        (
            "iam",
            "CreateLoginProfile",
            {"UserName": "alice", "Password": ""},
            [
                "Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
                "Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ],
        ),
        (
            "iam",
            "PutUserPolicy",
            {"UserName": "alice", "PolicyName": "p", "PolicyDocument": "{}\x01"},
            [
                "Value at 'policyDocument' failed to satisfy constraint: Member must satisfy regular "
                "expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
            ],
        ),
        (
            "sts",
            "AssumeRole",
            {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "a:b", "DurationSeconds": 600},
            [
                "Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression "
                "pattern: [\\w+=,.@-]*",
                "Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or "
                "equal to 900",
            ],
        ),
        (
            "sts",
            "AssumeRoleWithWebIdentity",
            {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1"},
            ["Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"],
        ),
    ],
)
def test_constraint_messages(
    service: str, operation: str, params: dict, expected: list[str], validator: InputValidator, models: ServiceModels
) -> None:
    assert _errors(validator, models, service, operation, params) == expected


def test_validate_raises_one_validation_error_with_every_problem(
    validator: InputValidator, models: ServiceModels
) -> None:
    op = models.operation("iam", "CreateRole")
    assert op is not None
    with pytest.raises(ValidationError) as caught:
        validator.validate(op, {"RoleName": "has space", "MaxSessionDuration": 60})
    assert caught.value.code == "ValidationError" and caught.value.http_status == 400
    # IAM's current form: no values, and the members in the order of a Java HashMap keyed by their paths.
    assert caught.value.message == (
        "3 validation errors detected: "
        "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; "
        "Value at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or "
        "equal to 3600; "
        "Value at 'roleName' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: [\\w+=,.@-]+"
    )
    validator.validate(op, {"RoleName": "ok", "AssumeRolePolicyDocument": "{}"})


def test_lists_longer_than_their_maximum(validator: InputValidator, models: ServiceModels) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    problems = _errors(validator, models, "iam", "TagUser", {"UserName": "u", "Tags": tags})
    assert len(problems) == 1
    assert problems[0] == ("Value at 'tags' failed to satisfy constraint: Member must have length less than or "
                           "equal to 50")
    assert _errors(validator, models, "iam", "TagUser", {"UserName": "u", "Tags": tags[:50]}) == []


def test_policy_document_maximum_length_is_the_models(validator: InputValidator, models: ServiceModels) -> None:
    document = "{" + " " * 131071 + "}"
    problems = _errors(
        validator, models, "iam", "PutUserPolicy", {"UserName": "u", "PolicyName": "p", "PolicyDocument": document}
    )
    assert problems == [
        "Value at 'policyDocument' failed to satisfy constraint: Member must have "
        "length less than or equal to 131072"
    ]


def test_lengths_count_utf16_code_units_as_java_does(validator: InputValidator, models: ServiceModels) -> None:
    emoji_key = "😀" * 64  # 64 characters, 128 UTF-16 code units: the tag key limit is 128
    assert (
        _errors(validator, models, "iam", "TagUser", {"UserName": "u", "Tags": [{"Key": emoji_key, "Value": "v"}]})
        != []
    )
    assert (
        _errors(validator, models, "iam", "TagUser", {"UserName": "u", "Tags": [{"Key": "é" * 128, "Value": "v"}]})
        == []
    )


def test_validation_message_counts() -> None:
    assert validation_message(["a"]) == "1 validation error detected: a"
    assert validation_message(["a", "b"]) == "2 validation errors detected: a; b"


def test_operations_without_input_validate(validator: InputValidator, models: ServiceModels) -> None:
    op = models.operation("sts", "GetCallerIdentity")
    assert op is not None
    assert validator.errors(op, {}) == []


# --- Java regular expressions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        (NAME_PATTERN, ["alice", "a_b+c=d,e.f@g-h", "Z9"], ["bad name!", "é", "", "a\n"]),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", ["héllo wörld 42", "", "日本語", "٣"], ["a!b", "a|b", "😀"]),
        (
            r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+",
            ["arn:aws:iam::1:role/x", "\u00e9\t"],
            ["\x01", "😀"],
        ),  # Java reads \u10000 as \u1000 then "0"
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", ["😀 x", "\t"], ["\x01"]),  # surrogate pairs
        (r"^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$", ["123456789012", "ou-abcd-12345678"], ["x123456789012"]),
        (r"\d{12}", ["123456789012"], ["١٢٣٤٥٦٧٨٩٠١٢", "12345678901"]),  # Java's \d is ASCII
        (r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)", ["/", "/a/b/"], ["a/", "/ /"]),
        (r"\Qa.b\E+", ["a.bbb"], ["axb"]),
        (r"(?<word>\w+)-(?<n>\d)", ["x-1"], ["x-y"]),
        (r"[\p{Alpha}]+\p{Digit}", ["ab1"], ["é1"]),
        (r"a\z", ["a"], ["a\n"]),
        (r"a++b", ["aab"], ["b"]),
        (r"[a-z-\/]+", ["a-/b"], ["A"]),
        (r"\P{L}+", ["12 !"], ["a"]),
        (r"[\x21\x23-\x2B]+", ["!#+"], ['"']),
    ],
)
def test_java_patterns_translate_faithfully(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    compiled = compile_java_regex(pattern)
    for text in matching:
        assert compiled.fullmatch(text), text
    for text in not_matching:
        assert not compiled.fullmatch(text), text


@pytest.mark.parametrize("pattern", [r"[a-z&&[^aeiou]]", r"[a[b]]", r"\p{InGreek}", r"\R", r"[\P{L}]", r"(a)\k<x>"])
def test_untranslatable_java_constructs_are_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        compile_java_regex(pattern)


def test_doubled_class_operators_are_escaped() -> None:
    assert translate_java_regex("[a--]") == "[a-\\-]"
    assert compile_java_regex("[|~]+").fullmatch("||~~")


def test_every_pattern_in_the_served_models_compiles(models: ServiceModels) -> None:
    count = 0
    for service in DEFAULT_SERVICES:
        model = models.service(service).model
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern is not None:
                assert isinstance(compile_java_regex(pattern), re.Pattern)
                count += 1
    assert count > 100


@settings(max_examples=50, deadline=None)
@given(name=st.from_regex(re.compile(r"[\w+=,.@-]{1,64}", re.ASCII), fullmatch=True))
def test_generated_valid_names_pass(name: str, validator: InputValidator, models: ServiceModels) -> None:
    op = models.operation("iam", "CreateUser")
    assert op is not None
    assert validator.errors(op, {"UserName": name}) == []


def test_update_account_password_policy_errors_as_aws_answers(validator: InputValidator,
                                                               models: ServiceModels) -> None:
    """LocalStack's AWS-validated test_iam_account_password_policy snapshot (recorded February 2026)."""
    problems = _errors(validator, models, "iam", "UpdateAccountPasswordPolicy",
                       {"MinimumPasswordLength": 129, "MaxPasswordAge": 1096, "PasswordReusePrevention": 25})
    assert validation_message(problems) == (
        "3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy constraint: Member must "
        "have value less than or equal to 128; Value at 'passwordReusePrevention' failed to satisfy constraint: "
        "Member must have value less than or equal to 24; Value at 'maxPasswordAge' failed to satisfy constraint: "
        "Member must have value less than or equal to 1095")


def test_create_open_id_connect_provider_errors_as_aws_answers(validator: InputValidator,
                                                               models: ServiceModels) -> None:
    """LocalStack's AWS-validated test_iam_oidc snapshot (recorded February 2026): list members reported at the
    list with every member constraint, the members in AWS's order."""
    problems = _errors(validator, models, "iam", "CreateOpenIDConnectProvider",
                       {"Url": "https://" + "a" * 250 + ".example.com", "ClientIDList": ["ok", "c" * 256],
                        "ThumbprintList": ["a" * 39]})
    assert validation_message(problems) == (
        "3 validation errors detected: Value at 'clientIDList' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must have length less than or equal to 255, Member must have length greater than or "
        "equal to 1]; Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; "
        "Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255")


def test_java_hash_order_grows_with_the_map() -> None:
    """Past twelve members a Java HashMap doubles its table, which reorders them."""
    from gatehouse.wire.constraints import Problem, java_hash_order
    problems = [Problem(f"m{i}", "", "r") for i in range(13)]
    assert sorted(p.path for p in java_hash_order(problems)) == sorted(p.path for p in problems)
    assert [p.path for p in java_hash_order(problems[:2])] == ["m0", "m1"]
