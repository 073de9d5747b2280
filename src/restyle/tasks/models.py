"""The ``tasks`` table: one row per task, the truth about its state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from restyle.domain import TaskStatus
from restyle.tasks.db import Base, UTCDateTime


class TaskRow(Base):
    """A task: request parameters, input keys, lifecycle times, lease, outcome and webhook state."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key", name="uq_tasks_account_idempotency"),
        Index("ix_tasks_status_submitted", "status", "submitted_at"),
        Index("ix_tasks_account_status", "account_id", "status"),
        Index("ix_tasks_account_submitted", "account_id", "submitted_at"),
        Index("ix_tasks_expires", "expires_at"),
        Index("ix_tasks_webhook", "webhook_status", "webhook_next_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40), ForeignKey("accounts.id", ondelete="CASCADE"))
    front: Mapped[str] = mapped_column(String(20), default="native")
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.PENDING.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    callback_url: Mapped[str | None] = mapped_column(String(2048))

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    worker_id: Mapped[str | None] = mapped_column(String(100))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    step: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[float] = mapped_column(Float, default=0.0)

    error_code: Mapped[str | None] = mapped_column(String(80))
    error_message: Mapped[str | None] = mapped_column(Text)
    result_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    timings_ms: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    identity_distance: Mapped[float | None] = mapped_column(Float)

    webhook_status: Mapped[str | None] = mapped_column(String(12))  # pending | delivered | failed
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhook_last_error: Mapped[str | None] = mapped_column(Text)
    webhook_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def task_status(self) -> TaskStatus:
        return TaskStatus(self.status)
