"""The account password policy (Update/Get/DeleteAccountPasswordPolicy). UpdateAccountPasswordPolicy replaces the
whole policy: a member the request leaves out takes AWS's default, as AWS documents."""

from __future__ import annotations

from typing import Any

from gatehouse.credentials import PasswordPolicy
from gatehouse.errors import NoSuchEntity
from gatehouse.model import Caller
from gatehouse.services.iam.common import IamBase
from gatehouse.services.operation import operation


def password_policy_view(policy: PasswordPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MinimumPasswordLength": policy.minimum_length, "RequireSymbols": policy.require_symbols,
        "RequireNumbers": policy.require_numbers, "RequireUppercaseCharacters": policy.require_uppercase,
        "RequireLowercaseCharacters": policy.require_lowercase,
        "AllowUsersToChangePassword": policy.allow_users_to_change, "ExpirePasswords": bool(policy.max_age_days),
    }
    if policy.max_age_days:
        out["MaxPasswordAge"] = policy.max_age_days
    if policy.reuse_prevention:
        out["PasswordReusePrevention"] = policy.reuse_prevention
    if policy.hard_expiry is not None:
        out["HardExpiry"] = policy.hard_expiry
    return out


class PasswordPolicyOps(IamBase):
    @operation
    def update_account_password_policy(self, caller: Caller, minimum_password_length: int | None = None,
                                       require_symbols: bool | None = None, require_numbers: bool | None = None,
                                       require_uppercase_characters: bool | None = None,
                                       require_lowercase_characters: bool | None = None,
                                       allow_users_to_change_password: bool | None = None,
                                       max_password_age: int | None = None,
                                       password_reuse_prevention: int | None = None,
                                       hard_expiry: bool | None = None) -> dict[str, Any]:
        policy = PasswordPolicy(
            minimum_length=minimum_password_length or 6, require_symbols=bool(require_symbols),
            require_numbers=bool(require_numbers), require_uppercase=bool(require_uppercase_characters),
            require_lowercase=bool(require_lowercase_characters),
            allow_users_to_change=bool(allow_users_to_change_password), max_age_days=max_password_age or None,
            reuse_prevention=password_reuse_prevention or None, hard_expiry=hard_expiry)
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:UpdateAccountPasswordPolicy", "*")
            tx.password_policy.put(policy)
        return {}

    @operation
    def get_account_password_policy(self, caller: Caller) -> dict[str, Any]:
        with self.store.read(caller.account_id) as tx:
            self.require(tx, caller, "iam:GetAccountPasswordPolicy", "*")
            policy = tx.password_policy.get()
        if policy is None:
            raise self._missing(caller)
        return {"PasswordPolicy": password_policy_view(policy)}

    @operation
    def delete_account_password_policy(self, caller: Caller) -> dict[str, Any]:
        with self.store.write(caller.account_id) as tx:
            self.require(tx, caller, "iam:DeleteAccountPasswordPolicy", "*")
            if tx.password_policy.get() is None:
                # AWS words the delete differently from the get (LocalStack's AWS-validated
                # test_iam_account_password_policy.snapshot.json, "delete-not-found").
                raise NoSuchEntity("The account policy with name PasswordPolicy cannot be found.")
            tx.password_policy.delete()
        return {}

    @staticmethod
    def _missing(caller: Caller) -> NoSuchEntity:
        return NoSuchEntity(f"The Password Policy with domain name {caller.account_id} cannot be found.")
