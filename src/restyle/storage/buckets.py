"""The ``tos_buckets`` table and its store: a bucket name, unique server-wide, owned by one account.

The TOS front keeps each bucket's objects in the storage plug-in under ``tos/<bucket id>/``. The id is
new for every bucket made, so a bucket deleted and made again under the same name starts empty even
while a write to the old bucket is still landing (that write goes to the old id, which nothing reads).
Buckets made before ids existed have their name as id (migration 0005), where their objects already are.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from restyle.errors import Conflict, NotFound
from restyle.tasks.db import Base, Database, UTCDateTime, utcnow

BUCKET_ID_BYTES = 16


class BucketRow(Base):
    """A TOS bucket: its name, its storage id, the owning account, its region and when it was made."""

    __tablename__ = "tos_buckets"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    account_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def bucket_prefix(bucket: BucketRow) -> str:
    """Where a TOS bucket's objects live in storage (by its id, never its reusable name)."""
    return f"tos/{bucket.id}"


class BucketStore:
    """Create, find, list and delete bucket rows (ownership checks are the caller's)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, account_id: str, region: str) -> BucketRow:
        """A new row; Conflict (``bucket.exists``) when the name is taken by anyone."""
        row = BucketRow(
            name=name,
            id="b" + secrets.token_hex(BUCKET_ID_BYTES),
            account_id=account_id,
            region=region,
            created_at=utcnow(),
        )
        try:
            with self.db.write() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(
                f"The bucket name '{name}' is already taken; choose another name.", code="bucket.exists"
            ) from None
        return row

    def get(self, name: str) -> BucketRow:
        """The row of ``name``; NotFound (``bucket.not_found``) when there is none."""
        with self.db.read() as session:
            row = session.get(BucketRow, name)
        if row is None:
            raise NotFound(f"The bucket '{name}' does not exist.", code="bucket.not_found")
        return row

    def list(self, account_id: str) -> list[BucketRow]:
        """The account's buckets by name."""
        with self.db.read() as session:
            query = select(BucketRow).where(BucketRow.account_id == account_id).order_by(BucketRow.name)
            return list(session.scalars(query))

    def delete(self, bucket: BucketRow) -> None:
        """Remove the row of ``bucket`` (only that bucket: not one made again under its name since)."""
        with self.db.write() as session:
            session.execute(delete(BucketRow).where(BucketRow.id == bucket.id))
