"""IAM's credential report: GenerateCredentialReport / GetCredentialReport with AWS's CSV columns and values.

AWS keeps one report per account and makes a new one only when the last is more than four hours old; Get refuses
a report older than that (`ReportExpired`). The first Generate answers `STARTED`, later ones `COMPLETE`. The
report is built at once (it reads only the account's users and credentials) and kept in the database, so every
replica serves the same one; keeping it bumps no revision (it changes no permission).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from gatehouse.errors import AwsError, ReportNotPresent
from gatehouse.model import AccessKey, Caller, make_arn
from gatehouse.services.iam.common import IamDeps
from gatehouse.services.operation import operation
from gatehouse.storage.audit import AuditLog
from gatehouse.storage.repository import UnitOfWork

COLUMNS = ("user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
           "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
           "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
           "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
           "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
           "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated")
LIFETIME = dt.timedelta(hours=4)
NA = "N/A"


class ReportExpired(AwsError):
    code, http_status = "ReportExpired", 410


def _when(moment: dt.datetime | None) -> str:
    return NA if moment is None else moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _keys(keys: list[AccessKey]) -> list[str]:
    cells: list[str] = []
    ordered = sorted(keys, key=lambda k: k.created)[:2]
    for n in range(2):
        if n < len(ordered):
            k = ordered[n]
            cells += [_flag(k.status == "Active"), _when(k.created), _when(k.last_used), k.last_used_region or NA,
                      k.last_used_service or NA]
        else:
            cells += ["false", NA, NA, NA, NA]
    return cells


def _certs(uploaded: list[tuple[bool, dt.datetime]]) -> list[str]:
    cells: list[str] = []
    ordered = sorted(uploaded, key=lambda c: c[1])[:2]
    for n in range(2):
        cells += [_flag(ordered[n][0]), _when(ordered[n][1])] if n < len(ordered) else ["false", NA]
    return cells


def build_report(tx: UnitOfWork, account_id: str, partition: str) -> str:
    """The CSV: the account root's row (`<root_account>`), then one row per user by name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    account = tx.accounts.get(account_id)
    root_login = tx.logins.root()
    root_mfa = any(d.enabled for d in tx.mfa.for_user(None))
    writer.writerow([
        "<root_account>", make_arn(partition, "iam", account_id, "root"),
        _when(account.created if account else None), "not_supported",
        "no_information" if root_login else NA, "not_supported", "not_supported", _flag(root_mfa),
        *_keys(tx.keys.for_user(None)),
        *_certs([(c.status == "Active", c.uploaded) for c in tx.signing_certificates.for_user(None)])])
    policy = tx.password_policy.get()
    for user in sorted(tx.users.all(), key=lambda u: u.name):
        profile = tx.logins.get(user.user_id)
        if profile is None:
            password = [NA if user.password_last_used is None else _when(user.password_last_used), NA, NA]
        else:
            rotation = NA
            if policy is not None and policy.max_age_days:
                rotation = _when(profile.password_changed + dt.timedelta(days=policy.max_age_days))
            password = [_when(user.password_last_used) if user.password_last_used else "no_information",
                        _when(profile.password_changed), rotation]
        writer.writerow([
            user.name, user.arn(partition), _when(user.created), _flag(profile is not None), *password,
            _flag(any(d.enabled for d in tx.mfa.for_user(user.user_id))),
            *_keys(tx.keys.for_user(user.user_id)),
            *_certs([(c.status == "Active", c.uploaded) for c in tx.signing_certificates.for_user(user.user_id)])])
    return out.getvalue()


class CredentialReports:
    def __init__(self, deps: IamDeps, log: AuditLog) -> None:
        self.deps = deps
        self.log = log

    @operation
    def generate_credential_report(self, caller: Caller) -> dict[str, Any]:
        with self.deps.store.read(caller.account_id) as tx:
            self.deps.authz.require(tx, caller, "iam:GenerateCredentialReport", "*")
        now = self.deps.clock()
        last = self.log.report(caller.account_id)
        if last is not None and now - last[0] < LIFETIME:
            return {"State": "COMPLETE"}
        with self.deps.store.read(caller.account_id) as tx:
            content = build_report(tx, caller.account_id, caller.partition)
        self.log.save_report(caller.account_id, now.replace(microsecond=0), content)
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    @operation
    def get_credential_report(self, caller: Caller) -> dict[str, Any]:
        with self.deps.store.read(caller.account_id) as tx:
            self.deps.authz.require(tx, caller, "iam:GetCredentialReport", "*")
        last = self.log.report(caller.account_id)
        if last is None:
            raise ReportNotPresent("Unknown")
        generated, content = last
        if self.deps.clock() - generated >= LIFETIME:
            raise ReportExpired("The credential report has expired. Generate a new one with "
                                "GenerateCredentialReport.")
        return {"Content": content.encode(), "ReportFormat": "text/csv", "GeneratedTime": generated}
