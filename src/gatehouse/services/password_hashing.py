"""Password hashing: argon2id (RFC 9106) through argon2-cffi. Passwords are hashed, never sealed: nothing in
Gatehouse ever needs one back, only to check one.

`verify` never raises for a wrong password or a malformed hash, and `burn` spends the same time as a real check, so
that an unknown user name takes as long to refuse as a wrong password (no user enumeration by timing).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Hashed now, with the same parameters as real passwords: made on first use instead, it would make the first
        # unknown name answered by a process slower than a wrong password.
        self._decoy = self._hasher.hash("gatehouse decoy password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def burn(self, password: str) -> None:
        """Spend one verification's time on a password that has no account (the result is thrown away)."""
        self.verify(self._decoy, password)
