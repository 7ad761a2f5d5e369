"""AWS Security Token Service use cases. `GetCallerIdentity` needs no permission, as in AWS."""

from __future__ import annotations

from typing import Any

from gatehouse.model import Caller


class Sts:
    def get_caller_identity(self, caller: Caller) -> dict[str, Any]:
        return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}
