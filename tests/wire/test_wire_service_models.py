"""Service models: lazy loading, signing-name aliases, operation lookup, namespaces and modeled errors."""

from __future__ import annotations

import inspect

import pytest

import gatehouse.errors as errors
from gatehouse.wire.service_models import DEFAULT_SERVICES, ModeledError, ServiceModels


def test_models_load_on_first_use_only() -> None:
    models = ServiceModels()
    assert models._services == {}
    assert models.operation("iam", "GetUser") is not None
    assert set(models._services) == {"iam"}


def test_iam_and_sts_metadata(models: ServiceModels) -> None:
    assert (models.protocol("iam"), models.api_version("iam")) == ("query", "2010-05-08")
    assert models.xml_namespace("iam") == "https://iam.amazonaws.com/doc/2010-05-08/"
    assert (models.protocol("sts"), models.api_version("sts")) == ("query", "2011-06-15")
    assert models.xml_namespace("sts") == "https://sts.amazonaws.com/doc/2011-06-15/"


@pytest.mark.parametrize(
    ("name", "botocore_name", "protocol"),
    [
        ("organizations", "organizations", "json"),
        ("cloudtrail", "cloudtrail", "json"),
        ("access-analyzer", "accessanalyzer", "rest-json"),
        ("accessanalyzer", "accessanalyzer", "rest-json"),
    ],
)
def test_later_services_resolve_by_signing_name_or_botocore_name(
    name: str, botocore_name: str, protocol: str, models: ServiceModels
) -> None:
    info = models.service(name)
    assert info.name == botocore_name and info.protocol == protocol
    assert info is models.service(botocore_name)
    assert models.service_name(name) == botocore_name
    assert info.signing_name == {v: k for k, v in DEFAULT_SERVICES.items()}[botocore_name]


def test_operation_lookup_is_exact(models: ServiceModels) -> None:
    op = models.operation("iam", "ListUsers")
    assert op is not None and op.name == "ListUsers"
    assert op is models.operation("iam", "ListUsers")
    assert op.output_shape is not None and op.output_shape.serialization["resultWrapper"] == "ListUsersResult"
    assert models.operation("iam", "listusers") is None
    assert models.operation("iam", "NoSuchAction") is None
    assert models.operation("s3", "ListBuckets") is None  # not a service this server speaks
    assert models.get("s3") is None
    with pytest.raises(KeyError):
        models.service("s3")


def test_modeled_errors(models: ServiceModels) -> None:
    assert models.error("iam", "NoSuchEntity") == ModeledError("NoSuchEntity", 404, True)
    assert models.error("iam", "ServiceFailure") == ModeledError("ServiceFailure", 500, False)
    assert models.error("sts", "ExpiredTokenException") == ModeledError("ExpiredTokenException", 400, True)
    assert models.error("sts", "RegionDisabledException") == ModeledError("RegionDisabledException", 403, True)
    assert models.error("iam", "SignatureDoesNotMatch") is None  # a common error, not in the model


def test_error_classes_agree_with_the_models(models: ServiceModels) -> None:
    """Every AwsError subclass whose code IAM or STS models carries the model's status and fault side."""
    checked = 0
    for cls in vars(errors).values():
        if inspect.isclass(cls) and issubclass(cls, errors.AwsError) and cls is not errors.AwsError:
            for service in ("iam", "sts"):
                modeled = models.error(service, cls.code)
                if modeled is not None:
                    assert (cls.http_status, cls.sender_fault) == (modeled.http_status, modeled.sender_fault), cls
                    checked += 1
    assert checked > 20


def test_instances_are_independent() -> None:
    first, second = ServiceModels(services={"iam": "iam"}), ServiceModels(services={"sts": "sts"})
    assert first.operation("iam", "GetUser") is not None and first.get("sts") is None
    assert second.operation("sts", "GetCallerIdentity") is not None and second.get("iam") is None
    assert first.known_services == frozenset({"iam"})
