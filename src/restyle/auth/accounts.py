"""Accounts: who owns tasks, and each account's submit rate and concurrency limits."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from restyle.auth.models import AccountRow, KeyRow
from restyle.config import LimitSettings
from restyle.errors import Conflict, InvalidParameter, NotFound
from restyle.tasks.db import Database, utcnow

MAX_NAME = 100
_generation = [0]  # bumped by every account or key change in this process (see changed())


def changed() -> None:
    """Note that an account or key changed: this process's cached key checks are dropped at once."""
    _generation[0] += 1


def generation() -> int:
    """How many account or key changes this process has made (cached key checks name the one they saw)."""
    return _generation[0]


def iso(moment: datetime) -> str:
    """A UTC time as the API writes it everywhere (``2026-01-02T03:04:05.123456Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


def account_to_dict(account: AccountRow) -> dict[str, Any]:
    """The public JSON form of an account."""
    return {
        "id": account.id,
        "name": account.name,
        "is_admin": account.is_admin,
        "qps": account.qps,
        "concurrency": account.concurrency,
        "disabled": account.disabled,
        "safety": (account.options or {}).get("safety", True),
        "created_at": iso(account.created_at),
    }


def _check_limits(qps: float | None, concurrency: int | None) -> None:
    if qps is not None and not 0 < qps <= 10_000:
        raise InvalidParameter(
            f"Parameter 'qps' is {qps}; it must be above 0 and at most 10000.", param="qps"
        )
    if concurrency is not None and not 0 <= concurrency <= 10_000:
        raise InvalidParameter(
            f"Parameter 'concurrency' is {concurrency}; it must be between 0 and 10000.", param="concurrency"
        )


class AccountStore:
    """Create, find, list and update accounts."""

    def __init__(self, db: Database, limits: LimitSettings) -> None:
        self.db = db
        self.limits = limits

    def create(
        self,
        name: str,
        *,
        qps: float | None = None,
        concurrency: int | None = None,
        is_admin: bool = False,
        options: dict[str, Any] | None = None,
    ) -> AccountRow:
        name = name.strip()
        if not 0 < len(name) <= MAX_NAME:
            raise InvalidParameter(f"Parameter 'name' must have 1 to {MAX_NAME} characters.", param="name")
        _check_limits(qps, concurrency)
        row = AccountRow(
            id="acc_" + secrets.token_hex(8),
            name=name,
            is_admin=is_admin,
            qps=self.limits.default_qps if qps is None else qps,
            concurrency=self.limits.default_concurrency if concurrency is None else concurrency,
            disabled=False,
            created_at=utcnow(),
            options=options or None,
        )
        try:
            with self.db.write() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"An account named '{name}' already exists.", code="account.exists") from None
        return row

    def get(self, account_id: str) -> AccountRow:
        with self.db.read() as session:
            row = session.get(AccountRow, account_id)
        if row is None:
            raise NotFound(f"Account '{account_id}' does not exist.", code="account.not_found")
        return row

    def by_name(self, name: str) -> AccountRow | None:
        with self.db.read() as session:
            return session.scalars(select(AccountRow).where(AccountRow.name == name)).first()

    def list_all(self) -> list[AccountRow]:
        with self.db.read() as session:
            return list(session.scalars(select(AccountRow).order_by(AccountRow.created_at, AccountRow.id)))

    def count(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(AccountRow)) or 0)

    def update(
        self,
        account_id: str,
        *,
        qps: float | None = None,
        concurrency: int | None = None,
        disabled: bool | None = None,
        is_admin: bool | None = None,
        options: dict[str, Any] | None = None,
    ) -> AccountRow:
        """Change the given fields; ``options`` are merged key by key into the account's options."""
        _check_limits(qps, concurrency)
        with self.db.write() as session:
            row = session.get(AccountRow, account_id)
            if row is None:
                raise NotFound(f"Account '{account_id}' does not exist.", code="account.not_found")
            if qps is not None:
                row.qps = qps
            if concurrency is not None:
                row.concurrency = concurrency
            if disabled is not None:
                row.disabled = disabled
            if is_admin is not None:
                row.is_admin = is_admin
            if options is not None:
                row.options = {**(row.options or {}), **options}
        changed()
        return row

    def delete(self, account_id: str) -> AccountRow:
        """Remove the account and its keys (its tasks must be removed first: TaskService.purge)."""
        with self.db.write() as session:
            row = session.get(AccountRow, account_id)
            if row is None:
                raise NotFound(f"Account '{account_id}' does not exist.", code="account.not_found")
            session.execute(delete(KeyRow).where(KeyRow.account_id == account_id))
            session.delete(row)
        changed()
        return row
