"""TOS buckets: a unique name owned by one account.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers BucketRow on the metadata wherever migrations run (env.py imports only the older models).
import restyle.storage.buckets  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tos_buckets",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column(
            "account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tos_buckets_account_id", "tos_buckets", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_tos_buckets_account_id", table_name="tos_buckets")
    op.drop_table("tos_buckets")
