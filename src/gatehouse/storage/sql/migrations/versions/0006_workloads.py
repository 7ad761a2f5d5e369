"""Registered workloads: programs that get role sessions of an instance profile's role with a bearer token (kept
only as its hash).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workloads",
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("workload_id", sa.String(length=64), nullable=False),
        sa.Column("id_key", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("profile_name", sa.String(length=128), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name=op.f("fk_workloads_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_workloads")),
        sa.UniqueConstraint("account_id", "id_key", name=op.f("uq_workloads_account_id_id_key")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_workloads_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("workloads")
