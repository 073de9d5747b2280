"""The ``tos_buckets`` table and its store: a bucket name, unique server-wide, owned by one account.

The TOS front keeps each bucket's objects in the storage plug-in under ``tos/<bucket>/``; this
table only says who owns which name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from restyle.errors import Conflict, NotFound
from restyle.tasks.db import Base, Database, UTCDateTime, utcnow


def bucket_prefix(name: str) -> str:
    """Where a TOS bucket's objects live in storage."""
    return f"tos/{name}"


class BucketRow(Base):
    """A TOS bucket: its name, the owning account, its region and when it was made."""

    __tablename__ = "tos_buckets"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BucketStore:
    """Create, find, list and delete bucket rows (ownership checks are the caller's)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, account_id: str, region: str) -> BucketRow:
        """A new row; Conflict (``bucket.exists``) when the name is taken by anyone."""
        row = BucketRow(name=name, account_id=account_id, region=region, created_at=utcnow())
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

    def delete(self, name: str) -> None:
        with self.db.write() as session:
            session.execute(delete(BucketRow).where(BucketRow.name == name))
