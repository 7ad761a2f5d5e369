"""Limits: the master key's check value, and what sign-in bookkeeping needs to be pruned once its window passes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Values the whole store shares (one row per name): the master key's check value.
    op.create_table(
        "server_values",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.String(length=256), nullable=False),
    )
    # When a lock row stops mattering (its failure window and its lock both over); NULL for rows made before.
    with op.batch_alter_table("signin_locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires", sa.Integer(), nullable=True))
    op.create_index("ix_signin_locks_expires", "signin_locks", ["expires"])
    op.create_index("ix_signin_rates_window", "signin_rates", ["window_start"])
    op.create_index("ix_signin_events_at", "signin_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_signin_events_at", table_name="signin_events")
    op.drop_index("ix_signin_rates_window", table_name="signin_rates")
    op.drop_index("ix_signin_locks_expires", table_name="signin_locks")
    with op.batch_alter_table("signin_locks", schema=None) as batch_op:
        batch_op.drop_column("expires")
    op.drop_table("server_values")
