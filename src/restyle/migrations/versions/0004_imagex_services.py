"""veImageX services: a ServiceId owned by one account, with an optional domain.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers ImagexServiceRow on the metadata wherever migrations run.
import restyle.storage.imagex_services  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imagex_services",
        sa.Column("service_id", sa.String(40), primary_key=True),
        sa.Column(
            "account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_imagex_services_account_id", "imagex_services", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_imagex_services_account_id", table_name="imagex_services")
    op.drop_table("imagex_services")
