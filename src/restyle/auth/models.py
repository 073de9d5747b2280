"""The ``accounts`` and ``api_keys`` tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from restyle.tasks.db import Base, UTCDateTime


class AccountRow(Base):
    """An account: owns tasks and keys, and carries its own submit rate and concurrency limits."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    qps: Mapped[float] = mapped_column(Float)
    concurrency: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # e.g. {"safety": false}


class KeyRow(Base):
    """One credential set: a Bearer API key (stored as a SHA-256 hash) and an access key pair.

    The secret access key signs vendor-protocol requests, so the server must recover it: it is
    stored encrypted (Fernet) with a key derived from the server key.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    api_key_hash: Mapped[str] = mapped_column(String(64))
    access_key_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
