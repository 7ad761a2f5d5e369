"""SQLAlchemy Core tables: the schema of record. Alembic migrations (./migrations) create and evolve it.

Names are unique per account without regard to case (`name_key` holds the lower-cased name), as IAM's are.
Timestamps are stored as naive UTC and handed out timezone-aware.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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
    Column("key_lower", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    PrimaryKeyConstraint("owner_kind", "owner_id", "key_lower"),
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
