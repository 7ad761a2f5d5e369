"""Shared, session-wide wire objects: loading a botocore model and compiling shapes are done once per run."""

from __future__ import annotations

import pytest

from gatehouse.wire.constraints import InputValidator
from gatehouse.wire.query import QueryProtocol
from gatehouse.wire.service_models import ServiceModels
from gatehouse.wire.sigv4 import SigV4Verifier


@pytest.fixture(scope="session")
def models() -> ServiceModels:
    return ServiceModels()


@pytest.fixture(scope="session")
def query() -> QueryProtocol:
    return QueryProtocol()


@pytest.fixture(scope="session")
def validator() -> InputValidator:
    return InputValidator()


@pytest.fixture
def verifier() -> SigV4Verifier:
    return SigV4Verifier()
