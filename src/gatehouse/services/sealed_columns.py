"""Where sealed secrets live and what each is bound to: what backup verification and master-key rotation walk.

Every value sealed with the `SecretBox` is listed here with the associated data it was sealed under (see the
binding functions next to each sealing site). A new sealed column must be added here, or rotation would leave it
under the old key; `tests/services/test_sealed_columns.py` fails when a `LargeBinary` column is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gatehouse.services.federation.outbound_keys import signing_key_binding
from gatehouse.services.iam.server_certificates import key_binding
from gatehouse.services.mfa_codes import seed_binding


@dataclass(frozen=True)
class SealedColumn:
    table: str
    keys: tuple[str, ...]  # the row's primary key
    column: str
    needs: tuple[str, ...]  # further columns the binding reads
    binding: Callable[[Mapping[str, Any]], str]

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("access_keys", ("access_key_id",), "sealed_secret", (), lambda r: str(r["access_key_id"])),
    SealedColumn("mfa_devices", ("device_id",), "sealed_seed", (), lambda r: seed_binding(r["device_id"])),
    SealedColumn("server_certificates", ("certificate_id",), "sealed_private_key", (),
                 lambda r: key_binding(r["certificate_id"])),
    SealedColumn("outbound_keys", ("kid",), "sealed_private", ("account_id",),
                 lambda r: signing_key_binding(r["account_id"], r["kid"])),
)
