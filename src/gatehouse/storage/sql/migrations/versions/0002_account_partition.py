"""Accounts carry their partition (aws, aws-cn, aws-us-gov, ...), chosen when the account is made.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Accounts made before partitions were theirs were all reached as `aws` by default.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partition", sa.String(length=16), nullable=False, server_default="aws"))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("partition")
