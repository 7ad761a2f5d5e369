"""AWS Organizations: organizations (with the revision decisions are cached under), organizational units, member
accounts, SCPs and RCPs, their attachments, and CreateAccount requests.

Revision ID: 0007
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("management_account_id", sa.String(length=12), nullable=False),
        sa.Column("root_id", sa.String(length=34), nullable=False),
        sa.Column("feature_set", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("policy_types", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["management_account_id"], ["accounts.account_id"],
                                name=op.f("fk_organizations_management_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("management_account_id", name=op.f("uq_organizations_management_account_id")),
        sa.UniqueConstraint("root_id", name=op.f("uq_organizations_root_id")),
    )
    op.create_table(
        "org_units",
        sa.Column("ou_id", sa.String(length=68), nullable=False),
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("parent_id", sa.String(length=68), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"], name=op.f("fk_org_units_org_id_organizations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ou_id", name=op.f("pk_org_units")),
        sa.UniqueConstraint("parent_id", "name", name=op.f("uq_org_units_parent_id_name")),
    )
    op.create_index("ix_org_units_org", "org_units", ["org_id"])
    op.create_table(
        "org_accounts",
        sa.Column("account_id", sa.String(length=12), nullable=False),
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("parent_id", sa.String(length=68), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=256), nullable=False),
        sa.Column("joined_method", sa.String(length=16), nullable=False),
        sa.Column("joined", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"],
                                name=op.f("fk_org_accounts_account_id_accounts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_org_accounts_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_org_accounts")),
    )
    op.create_index("ix_org_accounts_org", "org_accounts", ["org_id"])
    op.create_table(
        "org_policies",
        sa.Column("policy_id", sa.String(length=130), nullable=False),
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("policy_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_org_policies_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_org_policies")),
        sa.UniqueConstraint("org_id", "policy_type", "name", name=op.f("uq_org_policies_org_id_policy_type_name")),
    )
    op.create_table(
        "org_attachments",
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("policy_id", sa.String(length=130), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_org_attachments_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "policy_id", "target_id", name=op.f("pk_org_attachments")),
    )
    op.create_table(
        "org_account_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=34), nullable=False),
        sa.Column("account_name", sa.String(length=50), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=12), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("requested", sa.DateTime(), nullable=False),
        sa.Column("completed", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.org_id"],
                                name=op.f("fk_org_account_requests_org_id_organizations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_org_account_requests")),
    )
    op.create_index("ix_org_account_requests_org", "org_account_requests", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_org_account_requests_org", table_name="org_account_requests")
    op.drop_table("org_account_requests")
    op.drop_table("org_attachments")
    op.drop_table("org_policies")
    op.drop_index("ix_org_accounts_org", table_name="org_accounts")
    op.drop_table("org_accounts")
    op.drop_index("ix_org_units_org", table_name="org_units")
    op.drop_table("org_units")
    op.drop_table("organizations")
