"""Entities and value objects shared by services and storage.

Every stored record carries its account: one store serves many accounts. Entities are frozen; a change is a new
value written through the unit of work, which keeps "what changed" explicit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

UTC = dt.UTC

# Region prefix -> partition, longest prefix first (AWS's partitions document).
_PARTITIONS: tuple[tuple[str, str], ...] = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
    ("eusc-", "aws-eusc"),
)


PARTITIONS = ("aws", *sorted({partition for _, partition in _PARTITIONS}))


def partition_for_region(region: str) -> str:
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


class OwnerKind(StrEnum):
    """Who holds an inline policy, an attachment or tags."""

    USER = "user"
    GROUP = "group"
    ROLE = "role"
    POLICY = "policy"
    INSTANCE_PROFILE = "instance-profile"
    OIDC_PROVIDER = "oidc-provider"
    SAML_PROVIDER = "saml-provider"
    MFA_DEVICE = "mfa"
    SERVER_CERTIFICATE = "server-certificate"
    WORKLOAD = "workload"  # Gatehouse's registered workloads (their tags live in their own row)

    @property
    def tag_keys_ignore_case(self) -> bool:
        """Whether this kind's tag keys compare without case. AWS differs per resource (IAM User Guide, "Rules for
        tagging in IAM and AWS STS"): a user's or role's `department` tag replaces its `Department` tag, while a
        customer managed policy, instance profile, OIDC or SAML provider, server certificate or virtual MFA device
        keeps `Costcenter` and `costcenter` as two tags."""
        return self in (OwnerKind.USER, OwnerKind.ROLE)


@dataclass(frozen=True, slots=True)
class Tag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    created: dt.datetime
    revision: int = 0
    alias: str | None = None
    root_email: str | None = None
    sts_global_token_version: str = "v1Token"
    partition: str = "aws"


@dataclass(frozen=True, slots=True)
class User:
    account_id: str
    user_id: str
    name: str
    path: str
    created: dt.datetime
    permissions_boundary: str | None = None
    password_last_used: dt.datetime | None = None
    tags: tuple[Tag, ...] = ()

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"user{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class Group:
    account_id: str
    group_id: str
    name: str
    path: str
    created: dt.datetime

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"group{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class Role:
    account_id: str
    role_id: str
    name: str
    path: str
    created: dt.datetime
    trust_policy: str
    description: str | None = None
    max_session_duration: int = 3600
    permissions_boundary: str | None = None
    last_used: dt.datetime | None = None
    last_used_region: str | None = None
    tags: tuple[Tag, ...] = ()
    # The IAM users and roles the trust policy names, bound when it was saved: (ARN as written, unique id). The
    # trust is in the id: a principal re-created under the same name is another principal.
    trust_principals: tuple[tuple[str, str], ...] = ()

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"role{self.path}{self.name}")

    @property
    def service_linked(self) -> bool:
        return self.path.startswith("/aws-service-role/")


@dataclass(frozen=True, slots=True)
class IamPrincipal:
    """An IAM user or role of any account held here, as a policy's `Principal` element names it."""

    account_id: str
    kind: str  # "user" or "role"
    unique_id: str
    name: str
    path: str

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"{self.kind}{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    """A customer managed policy (account_id set) or an AWS managed one (account_id == "aws")."""

    account_id: str
    policy_id: str
    name: str
    path: str
    default_version_id: str
    created: dt.datetime
    updated: dt.datetime
    description: str | None = None
    attachment_count: int = 0
    boundary_usage_count: int = 0
    next_version: int = 2
    tags: tuple[Tag, ...] = ()

    @property
    def aws_managed(self) -> bool:
        return self.account_id == "aws"

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"policy{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version_id: str
    document: str
    is_default: bool
    created: dt.datetime


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    owner_kind: OwnerKind
    owner_id: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    """user_id is None for the account root's keys. The secret stays sealed; only authentication opens it."""

    account_id: str
    access_key_id: str
    user_id: str | None
    status: str
    created: dt.datetime
    sealed_secret: bytes = field(repr=False)
    last_used: dt.datetime | None = None
    last_used_region: str | None = None
    last_used_service: str | None = None


@dataclass(frozen=True, slots=True)
class InstanceProfile:
    account_id: str
    profile_id: str
    name: str
    path: str
    created: dt.datetime
    role_ids: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"instance-profile{self.path}{self.name}")


@dataclass(frozen=True, slots=True)
class Workload:
    """A registered workload (services/workloads.py): a running program that gets role sessions of its instance
    profile's role by presenting a bearer token, of which only the SHA-256 is kept. `uid` is internal and never
    reused: sessions are bound to it, so a workload registered again under a revoked one's id gets nothing of the
    old one's."""

    account_id: str
    uid: str
    workload_id: str  # shown, and the role session's name
    profile_id: str
    profile_name: str
    token_hash: str = field(repr=False)
    ttl_seconds: int
    created: dt.datetime
    tags: tuple[Tag, ...] = ()
    revoked_at: dt.datetime | None = None

    def arn(self, partition: str) -> str:
        return make_arn(partition, "gatehouse", self.account_id, f"workload/{self.workload_id}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; marker is opaque to clients."""

    items: list[T]
    marker: str | None = None

    @property
    def is_truncated(self) -> bool:
        return self.marker is not None


class PrincipalKind(StrEnum):
    ROOT = "root"
    USER = "user"
    ASSUMED_ROLE = "assumed-role"
    FEDERATED_USER = "federated-user"
    ANONYMOUS = "anonymous"


class SessionKind(StrEnum):
    """What a temporary credential was issued by: AssumeRole (and federation), GetSessionToken (and console
    sign-in), GetFederationToken."""

    ASSUMED_ROLE = "assumed-role"
    USER_SESSION = "user-session"
    FEDERATED_USER = "federated-user"


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Facts about the HTTP request that policies may test (aws:SourceIp, aws:UserAgent, ...)."""

    request_id: str
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    secure_transport: bool = False
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))
    host: str = ""  # the Host header as sent: the caller's choice, so it never names this server (see outbound)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal making one request."""

    account_id: str
    kind: PrincipalKind
    arn: str
    user_id: str
    name: str
    access_key_id: str
    request: RequestMeta
    partition: str = "aws"  # the account's (never the signing region's)
    principal_id: str | None = None  # the IAM user's or role's id; None for root
    session: SessionInfo | None = None
    revision: int = -1  # the account's revision when the request was authenticated (a cache key)
    # The account's organization and its revision, read with the credential (None: in none); `org_known` False
    # when the caller was not made by authentication (the authorizer then reads it).
    org: tuple[str, int] | None = None
    org_known: bool = False

    @property
    def is_root(self) -> bool:
        return self.kind is PrincipalKind.ROOT


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a temporary credential binds (see services.session_tokens): the caller of a session request."""

    kind: SessionKind
    issued: dt.datetime
    expires: dt.datetime
    role_name: str | None = None
    session_name: str | None = None
    mfa_authenticated: bool = False
    mfa_time: dt.datetime | None = None
    source_identity: str | None = None
    session_policies: tuple[str, ...] = ()
    policy_arns: tuple[str, ...] = ()
    session_tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    chained: bool = False
    workload: str | None = None  # the registered workload's internal id, for a workload's role session


def make_arn(partition: str, service: str, account: str, resource: str, region: str = "") -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


# --- federation: identity providers and outbound web identity tokens ------------------------------------------


@dataclass(frozen=True, slots=True)
class OidcProvider:
    """An IAM OpenID Connect provider. `url` is the issuer without its scheme (`host[:port]/path`), the part of
    the ARN after `oidc-provider/`, and the prefix of the provider's trust-policy keys (`<url>:aud`)."""

    account_id: str
    provider_id: str  # internal: names the provider's tags
    url: str
    created: dt.datetime
    client_ids: tuple[str, ...] = ()
    thumbprints: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"oidc-provider/{self.url}")

    @property
    def issuer(self) -> str:
        return f"https://{self.url}"


@dataclass(frozen=True, slots=True)
class SamlProvider:
    """An IAM SAML provider: the IdP's metadata as uploaded, and what verification needs from it (the entity id
    and the signing certificates, base64 DER), extracted once at upload."""

    account_id: str
    provider_id: str  # AWS's SAMLProviderUUID
    name: str
    metadata: str
    entity_id: str
    certificates: tuple[str, ...]
    created: dt.datetime
    valid_until: dt.datetime
    tags: tuple[Tag, ...] = ()

    def arn(self, partition: str) -> str:
        return make_arn(partition, "iam", self.account_id, f"saml-provider/{self.name}")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key of an account's outbound token issuer: the public JWK (served in the JWKS) and the private key,
    sealed under the master key (never stored in clear)."""

    kid: str
    alg: str
    public_jwk: str  # JSON
    sealed_private: bytes = field(repr=False)
    created: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboundIssuer:
    """Outbound web identity federation of one account: its issuer URL, whether tokens are vended, its keys."""

    account_id: str
    issuer: str
    enabled: bool
    keys: tuple[SigningKey, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisteredResource:
    """A resource of an application, registered so that Gatehouse can decide requests on it (`services/resources`):
    its ARN (in its account and partition), the service namespace it belongs to, its tags (keys compared with case,
    as most AWS services do) and its resource-based policy as submitted (None: none)."""

    account_id: str
    arn: str
    service: str
    tags: tuple[Tag, ...]
    policy: str | None
    created: dt.datetime
    updated: dt.datetime
