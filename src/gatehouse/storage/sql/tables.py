"""SQLAlchemy Core tables: the schema of record. Alembic migrations (./migrations) create and evolve it.

Names are unique per account without regard to case (`name_key` holds the lower-cased name), as IAM's are.
Timestamps are stored as naive UTC and handed out timezone-aware.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Naive UTC in the database, aware UTC in Python, whatever the backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def _account() -> Column[str]:
    return Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False)


accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(12), primary_key=True),
    Column("revision", Integer, nullable=False, default=0),
    Column("created", UtcDateTime, nullable=False),
    Column("alias", String(63), nullable=True, unique=True),
    Column("root_email", String(256), nullable=True),
    Column("sts_token_version", String(16), nullable=False, default="v1Token"),
    # The partition every ARN of the account is in: chosen when the account is made, never by a request.
    Column("partition", String(16), nullable=False, default="aws", server_default="aws"),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    _account(),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("boundary", String(2048), nullable=True),
    Column("password_last_used", UtcDateTime, nullable=True),
    UniqueConstraint("account_id", "name_key"),
)

groups = Table(
    "groups",
    metadata,
    Column("group_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(32), ForeignKey("groups.group_id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("group_id", "user_id"),
    Index("ix_group_members_user", "user_id"),
)

roles = Table(
    "roles",
    metadata,
    Column("role_id", String(32), primary_key=True),
    _account(),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("trust_policy", Text, nullable=False),
    Column("description", String(1000), nullable=True),
    Column("max_session_duration", Integer, nullable=False, default=3600),
    Column("boundary", String(2048), nullable=True),
    Column("last_used", UtcDateTime, nullable=True),
    Column("last_used_region", String(32), nullable=True),
    # JSON [[ARN as written, unique id], ...]: the users and roles the trust policy names, bound on save.
    Column("trust_principals", Text, nullable=True),
    UniqueConstraint("account_id", "name_key"),
)

policies = Table(
    "policies",
    metadata,
    Column("policy_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("default_version", String(16), nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("description", String(1000), nullable=True),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("policy_id", String(32), ForeignKey("policies.policy_id", ondelete="CASCADE"), nullable=False),
    Column("version_id", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("policy_id", "version_id"),
)

inline_policies = Table(
    "inline_policies",
    metadata,
    _account(),
    Column("owner_kind", String(24), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("owner_kind", "owner_id", "name"),
)

attachments = Table(
    "attachments",
    metadata,
    _account(),
    Column("owner_kind", String(24), nullable=False),
    Column("owner_id", String(64), nullable=False),
    Column("policy_account", String(12), nullable=False),
    Column("policy_id", String(32), nullable=False),
    PrimaryKeyConstraint("owner_kind", "owner_id", "policy_account", "policy_id"),
    Index("ix_attachments_policy", "policy_account", "policy_id"),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    _account(),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("last_used", UtcDateTime, nullable=True),
    Column("last_used_region", String(32), nullable=True),
    Column("last_used_service", String(64), nullable=True),
    Index("ix_access_keys_user", "user_id"),
)

instance_profiles = Table(
    "instance_profiles",
    metadata,
    Column("profile_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

instance_profile_roles = Table(
    "instance_profile_roles",
    metadata,
    Column("profile_id", String(32), ForeignKey("instance_profiles.profile_id", ondelete="CASCADE"), nullable=False),
    Column("role_id", String(32), ForeignKey("roles.role_id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("profile_id", "role_id"),
    Index("ix_instance_profile_roles_role", "role_id"),
)

tags = Table(
    "tags",
    metadata,
    _account(),
    Column("owner_kind", String(24), nullable=False),
    Column("owner_id", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    # The key as the owner's kind compares it (`OwnerKind.tag_keys_ignore_case`): lower-cased for users and roles,
    # as given for every other kind, so the database holds a user's Env and ENV once but a policy's a and A twice.
    Column("key_match", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    PrimaryKeyConstraint("owner_kind", "owner_id", "key_match"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(256), primary_key=True),
    _account(),
    Column("kind", String(64), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("status", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("is_done", Boolean, nullable=False, default=False),
)

# --- sign-in credentials: passwords, MFA devices, certificates, SSH keys, service credentials ----------------
# Secrets are never stored in clear: passwords as argon2id hashes, MFA seeds and private keys sealed.

login_profiles = Table(
    "login_profiles",
    metadata,
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    _account(),
    Column("password_hash", String(256), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("password_changed", UtcDateTime, nullable=False),
    Column("reset_required", Boolean, nullable=False, default=False),
    Column("max_session_duration", Integer, nullable=True),
)

password_history = Table(
    "password_history",
    metadata,
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("sequence", Integer, nullable=False),  # order of changes: timestamps tie within a second
    Column("changed", UtcDateTime, nullable=False),
    Column("password_hash", String(256), nullable=False),
    PrimaryKeyConstraint("user_id", "sequence"),
)

root_logins = Table(
    "root_logins",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("email_key", String(256), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("password_changed", UtcDateTime, nullable=False),
)

password_policies = Table(
    "password_policies",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("minimum_length", Integer, nullable=False),
    Column("require_symbols", Boolean, nullable=False),
    Column("require_numbers", Boolean, nullable=False),
    Column("require_uppercase", Boolean, nullable=False),
    Column("require_lowercase", Boolean, nullable=False),
    Column("allow_users_to_change", Boolean, nullable=False),
    Column("max_age_days", Integer, nullable=True),
    Column("reuse_prevention", Integer, nullable=True),
    Column("hard_expiry", Boolean, nullable=True),
)

lockout_settings = Table(
    "lockout_settings",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("threshold", Integer, nullable=True),
    Column("window_seconds", Integer, nullable=True),
    Column("duration_seconds", Integer, nullable=True),
)

# Failed-password counters and locks, per name typed ("user:<account>/<user name>" or "root:<email>", lower-cased),
# whether or not anyone by that name exists: a lockout must not tell existing users from unknown ones.
signin_locks = Table(
    "signin_locks",
    metadata,
    Column("lock_key", String(320), primary_key=True),
    # The account, when it exists (None for a name typed for an account that does not): what reports list by.
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=True),
    Column("name", String(128), nullable=False),  # the user name typed, or "root": what reports show
    Column("failures", Integer, nullable=False),
    Column("window_start", Integer, nullable=False),  # epoch seconds
    Column("locked_until", Integer, nullable=True),
    # When the row stops mattering: its failure window and its lock are both over (pruned then).
    Column("expires", Integer, nullable=True),
    Index("ix_signin_locks_account", "account_id", "locked_until"),
    Index("ix_signin_locks_expires", "expires"),
)

signin_rates = Table(
    "signin_rates",
    metadata,
    Column("bucket", String(320), primary_key=True),  # "addr:<ip>" or "name:<account>:<user>"
    Column("window_start", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Index("ix_signin_rates_window", "window_start"),
)

signin_events = Table(
    "signin_events",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("account_id", String(12), nullable=True),
    Column("principal", String(256), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("source_ip", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("mfa", Boolean, nullable=False, default=False),
    Index("ix_signin_events_account_at", "account_id", "at"),
    Index("ix_signin_events_at", "at"),
)

# Values the whole store shares, one row per name: "master_key_check" (`SecretBox.check_value`).
server_values = Table(
    "server_values",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

mfa_devices = Table(
    "mfa_devices",
    metadata,
    Column("device_id", String(32), primary_key=True),
    _account(),
    Column("name", String(226), nullable=False),
    Column("path", String(512), nullable=False),
    Column("serial_key", String(768), nullable=False),  # lower-cased path + name
    Column("created", UtcDateTime, nullable=False),
    Column("sealed_seed", LargeBinary, nullable=False),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="SET NULL"), nullable=True),
    Column("for_root", Boolean, nullable=False, default=False),
    Column("enabled", UtcDateTime, nullable=True),
    Column("last_step", Integer, nullable=True),  # the last accepted TOTP time step: no code is accepted twice
    Column("drift", Integer, nullable=False, default=0),  # time steps the device runs ahead (ResyncMFADevice)
    UniqueConstraint("account_id", "serial_key"),
    Index("ix_mfa_devices_user", "user_id"),
)

server_certificates = Table(
    "server_certificates",
    metadata,
    Column("certificate_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("path", String(512), nullable=False),
    Column("body", Text, nullable=False),
    Column("chain", Text, nullable=True),
    Column("sealed_private_key", LargeBinary, nullable=False),
    Column("uploaded", UtcDateTime, nullable=False),
    Column("expiration", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

signing_certificates = Table(
    "signing_certificates",
    metadata,
    Column("certificate_id", String(128), primary_key=True),
    _account(),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=True),
    Column("body", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the DER certificate, to refuse duplicates
    Column("status", String(16), nullable=False),
    Column("uploaded", UtcDateTime, nullable=False),
    Index("ix_signing_certificates_user", "user_id"),
)

ssh_public_keys = Table(
    "ssh_public_keys",
    metadata,
    Column("key_id", String(128), primary_key=True),
    _account(),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("body", Text, nullable=False),  # OpenSSH one-line form, without the comment
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("uploaded", UtcDateTime, nullable=False),
    UniqueConstraint("user_id", "fingerprint"),
)

service_credentials = Table(
    "service_credentials",
    metadata,
    Column("credential_id", String(128), primary_key=True),
    _account(),
    Column("user_id", String(32), ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("service_name", String(128), nullable=False),
    Column("service_user_name", String(200), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("expires", UtcDateTime, nullable=True),
    Index("ix_service_credentials_user", "user_id"),
)

# --- federation ------------------------------------------------------------------------------------------------

oidc_providers = Table(
    "oidc_providers",
    metadata,
    Column("provider_id", String(32), primary_key=True),
    _account(),
    Column("url", String(255), nullable=False),
    Column("client_ids", Text, nullable=False),  # JSON list, in the order given
    Column("thumbprints", Text, nullable=False),  # JSON list
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "url"),
)

saml_providers = Table(
    "saml_providers",
    metadata,
    Column("provider_id", String(32), primary_key=True),
    _account(),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("metadata", Text, nullable=False),
    Column("entity_id", String(1024), nullable=False),
    Column("certificates", Text, nullable=False),  # JSON list of base64 DER signing certificates
    Column("created", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "name_key"),
)

# Console sessions signed out before they expired (with the temporary credentials they carry): every replica refuses
# them until `expires`, their own expiry, after which they are forgotten (an expired session is refused anyway).
revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    Column("expires", Integer, nullable=False),  # epoch seconds
    Index("ix_revoked_sessions_expires", "expires"),
)

# Registered workloads (services/workloads.py): the bearer token is kept only as its SHA-256. `uid` is what sessions
# are bound to; authentication probes it (with `revoked_at`) in the same query as the account's revision.
workloads = Table(
    "workloads",
    metadata,
    Column("uid", String(32), primary_key=True),
    _account(),
    Column("workload_id", String(64), nullable=False),
    Column("id_key", String(64), nullable=False),
    Column("profile_id", String(32), nullable=False),
    Column("profile_name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("ttl_seconds", Integer, nullable=False),
    Column("tags", Text, nullable=False),  # JSON [[key, value], ...]
    Column("created", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    UniqueConstraint("account_id", "id_key"),
)

# SAML assertion ids seen, until they expire: a replayed assertion is refused on every replica.
saml_assertions = Table(
    "saml_assertions",
    metadata,
    Column("provider_id", String(32), ForeignKey("saml_providers.provider_id", ondelete="CASCADE"), nullable=False),
    Column("assertion_id", String(256), nullable=False),
    Column("expires", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("provider_id", "assertion_id"),
    Index("ix_saml_assertions_expires", "expires"),
)

outbound_issuers = Table(
    "outbound_issuers",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("issuer", String(2048), nullable=False),
    Column("enabled", Boolean, nullable=False),
)

outbound_keys = Table(
    "outbound_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("account_id", String(12), ForeignKey("outbound_issuers.account_id", ondelete="CASCADE"), nullable=False),
    Column("alg", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("sealed_private", LargeBinary, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Index("ix_outbound_keys_account", "account_id"),
)

# --- the audit trail (services/audit): one hash chain per account ("" for calls no account can be named for) ---
# No foreign key to accounts: the trail outlives what it describes.
audit_events = Table(
    "audit_events",
    metadata,
    Column("chain_id", String(12), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_time", UtcDateTime, nullable=False),
    Column("event_name", String(128), nullable=False),
    Column("event_source", String(64), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("username", String(256), nullable=True),
    Column("access_key_id", String(32), nullable=True),
    Column("resource_type", String(64), nullable=True),
    Column("resource_name", String(2048), nullable=True),
    Column("record", Text, nullable=False),  # the CloudTrail record, as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),  # sha256(prev_hash "\n" record)
    PrimaryKeyConstraint("chain_id", "seq"),
    Index("ix_audit_events_chain_time", "chain_id", "event_time"),
)

# Each chain's head: appended under this row's lock, so replicas sharing PostgreSQL extend a chain one at a time.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain_id", String(12), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("first_seq", BigInteger, nullable=False, default=1),  # where the kept chain starts (retention)
    Column("start_hash", String(64), nullable=False, default="0" * 64),  # the pruned predecessor's hash
)

# Signed digests: every chain's head at a moment, signed with the Ed25519 key kept outside the database.
audit_digests = Table(
    "audit_digests",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("created", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Column("signature", String(128), nullable=False),
)

# The account's latest credential report (GenerateCredentialReport): kept in the database so every replica serves it.
credential_reports = Table(
    "credential_reports",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("generated", UtcDateTime, nullable=False),
    Column("content", Text, nullable=False),
)

# Finished GenerateServiceLastAccessedDetails jobs (computed from the trail when asked), read back by job id.
access_reports = Table(
    "access_reports",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("content", Text, nullable=False),
)

# --- AWS Organizations (services/organizations): one organization per management account -----------------------
# `revision` is bumped by every change to the organization (its shape, its policies, their attachments), in the
# change's own transaction: decisions about any account in it are cached under (organization, revision).
organizations = Table(
    "organizations",
    metadata,
    Column("org_id", String(34), primary_key=True),
    Column("management_account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"),
           nullable=False, unique=True),
    Column("root_id", String(34), nullable=False, unique=True),
    Column("feature_set", String(32), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("policy_types", String(256), nullable=False, default=""),  # enabled on the root, comma-separated
)

org_units = Table(
    "org_units",
    metadata,
    Column("ou_id", String(68), primary_key=True),
    Column("org_id", String(34), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(68), nullable=False),
    Column("name", String(128), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    UniqueConstraint("parent_id", "name"),
    Index("ix_org_units_org", "org_id"),
)

org_accounts = Table(
    "org_accounts",
    metadata,
    Column("account_id", String(12), ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", String(34), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(68), nullable=False),
    Column("name", String(64), nullable=False),  # the management account's: its alias (up to 63)
    Column("email", String(256), nullable=False),  # the management account's: its root email (up to 256)
    Column("joined_method", String(16), nullable=False),
    Column("joined", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_org_accounts_org", "org_id"),
)

# Customer managed policies (AWS managed ones, FullAWSAccess and RCPFullAWSAccess, live in code).
org_policies = Table(
    "org_policies",
    metadata,
    Column("policy_id", String(130), primary_key=True),
    Column("org_id", String(34), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("policy_type", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(512), nullable=False),
    Column("content", Text, nullable=False),
    UniqueConstraint("org_id", "policy_type", "name"),
)

org_attachments = Table(
    "org_attachments",
    metadata,
    Column("org_id", String(34), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("policy_id", String(130), nullable=False),
    Column("target_id", String(100), nullable=False),
    PrimaryKeyConstraint("org_id", "policy_id", "target_id"),
)

# CreateAccount requests, reported by DescribeCreateAccountStatus and ListCreateAccountStatus.
org_account_requests = Table(
    "org_account_requests",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("org_id", String(34), ForeignKey("organizations.org_id", ondelete="CASCADE"), nullable=False),
    Column("account_name", String(50), nullable=False),
    Column("state", String(16), nullable=False),
    Column("account_id", String(12), nullable=True),
    Column("failure_reason", String(64), nullable=True),
    Column("requested", UtcDateTime, nullable=False),
    Column("completed", UtcDateTime, nullable=True),
    Index("ix_org_account_requests_org", "org_id"),
)

# --- the resource registry: applications' own resources, their tags and resource-based policies ------------------
registered_resources = Table(
    "registered_resources",
    metadata,
    _account(),
    Column("arn", String(2048), nullable=False),  # ASCII only (checked by the service), so a B-tree key fits
    Column("service", String(64), nullable=False),
    Column("tags", Text, nullable=False),  # JSON list of [key, value], in the order given
    Column("policy", Text, nullable=True),  # the resource-based policy as submitted; NULL: none
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "arn"),
)
