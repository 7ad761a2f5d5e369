"""The mark that makes a method an AWS operation.

A use-case object has helpers beside its operations; only methods marked here are routed, and the router refuses
at start-up a marked method that names no operation of the services it serves (a typo fails the tests instead of
answering `InvalidAction` in production).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_MARK = "__gatehouse_operation__"


def operation(method: F) -> F:
    """Mark `method` as the use case of the AWS operation its name spells in snake_case (`create_user` answers
    `CreateUser`)."""
    setattr(method, _MARK, True)
    return method


def is_operation(attribute: object) -> bool:
    return bool(getattr(attribute, _MARK, False))
