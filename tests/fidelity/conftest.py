"""Fixtures of the fidelity suites: root clients of the shared development server, reset before each test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.servers import Endpoint


@pytest.fixture
def iam(gh: Endpoint) -> Any:
    return gh.client("iam")


@pytest.fixture
def sts(gh: Endpoint) -> Any:
    return gh.client("sts")
