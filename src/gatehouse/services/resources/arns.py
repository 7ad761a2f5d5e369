"""Which ARNs an account may register, and what the registry and the authorization API read from them.

A registered resource is a concrete resource of the caller's own account, in the account's partition, of any
service namespace except those Gatehouse answers for itself (`iam`, `sts`, `organizations`, `cloudtrail`,
`gatehouse`): their resources are the entities Gatehouse keeps, whose permissions are its own business. ASCII only
and no wildcard: a registered ARN names one resource, compared exactly, as AWS compares resource ARNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gatehouse.errors import InvalidParameterException

MAX_ARN = 2048
# Namespaces whose resources are Gatehouse's own entities (decided by the operations that manage them).
RESERVED_SERVICES = frozenset({"iam", "sts", "organizations", "cloudtrail", "gatehouse"})
_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9][a-z0-9-]{0,62}):(?P<region>[a-z0-9-]*):"
                  r"(?P<account>\d{12})?:(?P<resource>[\x21-\x7e]+)\Z")


@dataclass(frozen=True, slots=True)
class ResourceArn:
    arn: str
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_resource_arn(arn: str) -> ResourceArn | None:
    """The parts of a resource ARN (ASCII, no white space), or None when `arn` is no ARN."""
    if len(arn) > MAX_ARN:
        return None
    m = _ARN.match(arn)
    if m is None:
        return None
    return ResourceArn(arn, m["partition"], m["service"], m["region"], m["account"] or "", m["resource"])


def registrable(arn: str, account_id: str, partition: str) -> ResourceArn:
    """`arn` as a resource the caller's account may register, or InvalidParameterException saying why not."""
    parsed = parse_resource_arn(arn)
    if parsed is None:
        raise InvalidParameterException(f"Invalid resource ARN: {arn[:MAX_ARN]}. An ARN is arn:partition:service:"
                                        "region:account-id:resource, in ASCII without white space.")
    if "*" in arn or "?" in arn:
        raise InvalidParameterException(f"Invalid resource ARN: {arn}. A registered resource ARN names one resource: "
                                        "no wildcards.")
    if parsed.service in RESERVED_SERVICES:
        raise InvalidParameterException(f"Resources of the {parsed.service} service cannot be registered: they are "
                                        "Gatehouse's own.")
    if parsed.partition != partition or parsed.account != account_id:
        raise InvalidParameterException(f"Resource ARN {arn} is not in this account: registered resources must carry "
                                        f"account {account_id} and partition {partition}.")
    return parsed
