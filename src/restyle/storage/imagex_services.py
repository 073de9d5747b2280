"""The ``imagex_services`` table and its store: a veImageX service (its ``ServiceId``), owned by one
account, with an optional bound domain. Its images live in the storage plug-in under
``imagex/<service_id>/``."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from restyle.errors import Conflict, NotFound
from restyle.tasks.db import Base, Database, UTCDateTime, utcnow

SERVICE_ID_BYTES = 5  # ten hex characters, like the vendor's short service ids


class ImagexServiceRow(Base):
    """A veImageX service: its id, the owning account, its domain ('' when none) and creation time."""

    __tablename__ = "imagex_services"

    service_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def service_prefix(service_id: str) -> str:
    """Where an ImageX service's images live in storage."""
    return f"imagex/{service_id}"


def object_key(service_id: str, name: str) -> str:
    """The storage key of image ``name`` of service ``service_id`` (the layout lives here, not in a front)."""
    return f"imagex/{service_id}/{name}"


def not_found(service_id: str) -> NotFound:
    shown = service_id if len(service_id) <= 40 else service_id[:37] + "..."
    return NotFound(
        f"Query parameter 'ServiceId' is '{shown}'; no such service exists for this account.",
        code="imagex.service_not_found",
        param="ServiceId",
    )


class ImagexServiceStore:
    """Create and find veImageX services (another account's service is reported as missing)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, account_id: str, domain: str = "") -> ImagexServiceRow:
        """A new service; a domain already bound to another service is a Conflict (its public image
        URLs would otherwise serve the other service's images)."""
        taken = self.by_domain(domain)
        if taken is not None:
            raise Conflict(
                f"Domain '{domain}' is already bound to service '{taken.service_id}'; a domain serves one "
                "service.",
                code="imagex.domain_taken",
                param="domain",
            )
        row = ImagexServiceRow(
            service_id=secrets.token_hex(SERVICE_ID_BYTES),
            account_id=account_id,
            domain=domain,
            created_at=utcnow(),
        )
        with self.db.write() as session:
            session.add(row)
        return row

    def get(self, service_id: str, account_id: str) -> ImagexServiceRow:
        """The account's service ``service_id``; NotFound (``imagex.service_not_found``) otherwise."""
        with self.db.read() as session:
            row = session.get(ImagexServiceRow, service_id)
        if row is None or row.account_id != account_id:
            raise not_found(service_id)
        return row

    def by_domain(self, domain: str) -> ImagexServiceRow | None:
        """The service a domain is bound to (case-insensitive; the oldest if several), or None."""
        if not domain:
            return None
        with self.db.read() as session:
            query = select(ImagexServiceRow).where(func.lower(ImagexServiceRow.domain) == domain.lower())
            return session.scalars(query.order_by(ImagexServiceRow.created_at).limit(1)).first()

    def list(self, account_id: str) -> list[ImagexServiceRow]:
        with self.db.read() as session:
            query = select(ImagexServiceRow).where(ImagexServiceRow.account_id == account_id)
            return list(session.scalars(query.order_by(ImagexServiceRow.created_at)))
