"""The account password policy's rules, as AWS applies them to new passwords (CreateLoginProfile,
UpdateLoginProfile, ChangePassword, the sign-in page's forced change).

Pure functions: no storage, no clock. Messages follow AWS's `PasswordPolicyViolation` wording, one sentence for the
first rule a password breaks. Without a custom policy AWS applies its default one: at least 8 characters and at
least three of the four character types (upper case, lower case, numbers, symbols).
"""

from __future__ import annotations

import datetime as dt

from gatehouse.credentials import PasswordPolicy

# The symbols AWS counts for "require at least one non-alphanumeric character".
SYMBOLS = frozenset("!@#$%^&*()_+-=[]{}|'")
DEFAULT_MINIMUM = 8


def _kinds(password: str) -> dict[str, bool]:
    return {
        "lower": any("a" <= c <= "z" for c in password),
        "upper": any("A" <= c <= "Z" for c in password),
        "number": any("0" <= c <= "9" for c in password),
        "symbol": any(c in SYMBOLS for c in password),
    }


def violations(policy: PasswordPolicy | None, password: str) -> list[str]:
    """Every rule `password` breaks, in AWS's words (empty: the password is acceptable)."""
    kinds = _kinds(password)
    if policy is None:
        out = []
        if len(password) < DEFAULT_MINIMUM:
            out.append(f"Password should have a minimum length of {DEFAULT_MINIMUM}")
        if sum(kinds.values()) < 3:
            out.append("Password should have at least three of the following character types: uppercase letters, "
                       "lowercase letters, numbers, and symbols")
        return out
    out = []
    if len(password) < policy.minimum_length:
        out.append(f"Password should have a minimum length of {policy.minimum_length}")
    if policy.require_lowercase and not kinds["lower"]:
        out.append("Password should have at least one lowercase letter")
    if policy.require_uppercase and not kinds["upper"]:
        out.append("Password should have at least one uppercase letter")
    if policy.require_numbers and not kinds["number"]:
        out.append("Password should have at least one number")
    if policy.require_symbols and not kinds["symbol"]:
        out.append("Password should have at least one symbol")
    return out


def reuse_message(count: int) -> str:
    return f"Password should not be one of your previous {count} passwords"


def expires_at(policy: PasswordPolicy | None, changed: dt.datetime) -> dt.datetime | None:
    """When a password set at `changed` expires under `policy` (None: never)."""
    if policy is None or not policy.max_age_days:
        return None
    return changed + dt.timedelta(days=policy.max_age_days)


def is_expired(policy: PasswordPolicy | None, changed: dt.datetime, now: dt.datetime) -> bool:
    expiry = expires_at(policy, changed)
    return expiry is not None and now >= expiry
