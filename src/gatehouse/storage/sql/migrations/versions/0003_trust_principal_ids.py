"""Trust policies bind the IAM users and roles they name to their unique ids, as AWS does when a policy is saved.

Adds `roles.trust_principals` (JSON [[ARN as written, unique id], ...]) and fills it for the trust policies already
stored: every user or role ARN they name (in `Principal` or `NotPrincipal`, `AWS`) that exists now, in an account
held here, with that exact name and path, is bound to its id. A principal already gone cannot be bound (its id was
never kept): that ARN stays as written.

Self-contained on purpose (no application imports): a migration must keep meaning what it meant when written.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_IAM_PRINCIPAL = re.compile(r"arn:([^:]+):iam::(\d{12}):(user|role)(/(?:[^/]+/)*)([^/]+)\Z")

_roles = sa.table("roles", sa.column("role_id", sa.String), sa.column("trust_policy", sa.Text),
                  sa.column("trust_principals", sa.Text))
_users = sa.table("users", sa.column("user_id", sa.String), sa.column("account_id", sa.String),
                  sa.column("name", sa.String), sa.column("name_key", sa.String), sa.column("path", sa.String))
_role_names = sa.table("roles", sa.column("role_id", sa.String), sa.column("account_id", sa.String),
                       sa.column("name", sa.String), sa.column("name_key", sa.String), sa.column("path", sa.String))
_accounts = sa.table("accounts", sa.column("account_id", sa.String), sa.column("partition", sa.String))


def _aws_principals(document: str) -> list[str]:
    """The `AWS` values of every Principal/NotPrincipal of a stored trust policy ([] if it does not read)."""
    try:
        doc = json.loads(document)
    except ValueError:
        return []
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    out: list[str] = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict):
            continue
        for element in ("Principal", "NotPrincipal"):
            spec = statement.get(element)
            values = spec.get("AWS") if isinstance(spec, dict) else None
            values = [values] if isinstance(values, str) else values
            out += [v for v in values or [] if isinstance(v, str)]
    return out


def _unique_id(conn: Any, partitions: dict[str, str], arn: str) -> str | None:
    m = _IAM_PRINCIPAL.match(arn)
    if not m or partitions.get(m.group(2)) != m.group(1):
        return None
    _, account, kind, path, name = m.groups()
    table, id_column = (_users, _users.c.user_id) if kind == "user" else (_role_names, _role_names.c.role_id)
    row = conn.execute(sa.select(id_column, table.c.name, table.c.path).where(
        table.c.account_id == account, table.c.name_key == name.lower())).first()
    return row[0] if row is not None and row[1] == name and row[2] == path else None


def upgrade() -> None:
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust_principals", sa.Text(), nullable=True))
    conn = op.get_bind()
    partitions = {r[0]: r[1] for r in conn.execute(sa.select(_accounts.c.account_id, _accounts.c.partition))}
    for role_id, document in conn.execute(sa.select(_roles.c.role_id, _roles.c.trust_policy)).all():
        bindings: dict[str, str] = {}
        for arn in _aws_principals(document or ""):
            if arn not in bindings:
                found = _unique_id(conn, partitions, arn)
                if found is not None:
                    bindings[arn] = found
        if bindings:
            conn.execute(sa.update(_roles).where(_roles.c.role_id == role_id).values(
                trust_principals=json.dumps([[arn, uid] for arn, uid in bindings.items()])))


def downgrade() -> None:
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_column("trust_principals")
