"""Identity providers (OIDC and SAML) named by ARN: found in the caller's partition and account only, and authorized by
their own ARN, whatever form the caller typed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol, TypeVar

from gatehouse.errors import AwsError, InvalidInput
from gatehouse.model import Caller, OwnerKind
from gatehouse.services.iam.common import IamBase
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import UnitOfWork


class Provider(Protocol):
    @property
    def provider_id(self) -> str: ...

    def arn(self, partition: str) -> str: ...


P = TypeVar("P", bound=Provider)


class ProviderLookup(IamBase):
    def provider_named(self, tx: UnitOfWork, caller: Caller, action: str, arn: str, pattern: re.Pattern[str],
                       kind: OwnerKind, find: Callable[[str], P | None], missing: AwsError,
                       facts: RequestFacts | None) -> P:
        """`pattern` captures (partition, account, name); `find` looks the name up as the store compares names."""
        m = pattern.match(arn)
        if not m:
            raise InvalidInput(f"ARN {arn} is not valid.")
        ours = (m.group(1), m.group(2)) == (caller.partition, caller.account_id)
        provider = find(m.group(3)) if ours else None
        target = (self.target(tx, kind, provider.provider_id, provider.arn(caller.partition)) if provider
                  else self.target(tx, kind, None, arn))
        return self.authorized(tx, caller, action, provider, target, missing, facts)
