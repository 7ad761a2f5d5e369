"""Whose credential an operation means: the named user, or (without a name) the caller's own user, or the root
user when the root calls. Shared by the operations on a user's signing certificates, SSH keys and service
credentials, as AWS defaults their UserName the same way."""

from __future__ import annotations

from gatehouse.model import Caller, User
from gatehouse.services.iam.common import IamBase
from gatehouse.services.request_context import RequestFacts
from gatehouse.storage.repository import UnitOfWork


class CredentialHolder(IamBase):
    def holder(self, tx: UnitOfWork, caller: Caller, action: str, user_name: str | None,
               facts: RequestFacts | None = None) -> User | None:
        """The user meant (None: the account root, when the root calls without a user name), authorized."""
        name = self.own_user_name(caller, user_name)
        if name is None:
            self.require(tx, caller, action, caller.arn, facts)
            return None
        return self.user_for(tx, caller, action, name, facts)

    @staticmethod
    def holder_name(caller: Caller, user: User | None) -> str:
        return user.name if user else caller.account_id
