"""TOS buckets get a storage id, new for every bucket made (objects live under ``tos/<id>/``), so a
bucket deleted and made again under its name never sees the old bucket's objects. Existing buckets
keep their name as id, which is where their objects already are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tos_buckets") as batch:
        batch.add_column(sa.Column("id", sa.String(40), nullable=True))
    op.execute("UPDATE tos_buckets SET id = name")
    with op.batch_alter_table("tos_buckets") as batch:
        batch.alter_column("id", existing_type=sa.String(40), nullable=False)
        batch.create_index("ix_tos_buckets_id", ["id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("tos_buckets") as batch:
        batch.drop_index("ix_tos_buckets_id")
        batch.drop_column("id")
