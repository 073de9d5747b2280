"""Webhooks: when a task with a ``callback_url`` ends, POST its JSON, signed, retried with backoff.

Each delivery goes through the address guard first (the callback URL's host must resolve to public
addresses, or ones ``images.fetch_allow`` admits) and is sent to an address that was checked, with
no redirects followed, so a DNS answer that changes after submit cannot aim it inside the network.
Delivery state lives on the task row (``webhook_status`` pending / delivered / failed, attempts,
next attempt time, last error), so a restart resumes pending deliveries. The signature header is
``Restyle-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` with the
account's webhook secret (``restyle keys create`` prints it).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from restyle.auth.serverkey import ServerKey
from restyle.config import WebhookSettings
from restyle.errors import UrlError, UrlForbidden, UrlInvalid
from restyle.imaging.urlguard import Resolver, Target, UrlGuard
from restyle.tasks.db import Database, utcnow
from restyle.tasks.models import TaskRow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Restyle-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: float = 300, now: float | None = None
) -> bool:
    """How a receiver checks a delivery: the signature matches and its time is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class WebhookDispatcher:
    """Finds due deliveries on the task rows and performs them."""

    def __init__(
        self,
        db: Database,
        settings: WebhookSettings,
        server_key: ServerKey,
        serialize: Callable[[TaskRow], dict[str, Any]],
        *,
        fetch_allow: Iterable[str] = (),
        resolver: Resolver | None = None,
    ) -> None:
        self.db, self.settings, self.server_key, self.serialize = db, settings, server_key, serialize
        self.guard = UrlGuard(fetch_allow, resolver, resolve_timeout=settings.timeout_seconds)

    def _take_due(self, now: datetime, limit: int = 20) -> list[TaskRow]:
        """Due deliveries, each reserved for one timeout so that no other dispatcher sends it too."""
        query = (
            select(TaskRow)
            .where(TaskRow.webhook_status == "pending", TaskRow.webhook_next_at <= now)
            .order_by(TaskRow.webhook_next_at)
            .limit(limit)
        )
        hold = now + timedelta(seconds=self.settings.timeout_seconds * 2 + 5)
        taken: list[TaskRow] = []
        with self.db.read() as session:  # the common case, nothing due, takes no write lock
            if session.scalars(query.with_only_columns(TaskRow.id)).first() is None:
                return taken
        with self.db.write() as session:
            for row in session.scalars(query):
                row.webhook_next_at = hold
                taken.append(row)
        return taken

    def _record(self, task_id: str, attempts: int, error: str | None, final: bool = False) -> None:
        now = utcnow()
        values: dict[str, Any] = {"webhook_attempts": attempts, "webhook_last_error": error}
        if error is None:
            values.update(webhook_status="delivered", webhook_delivered_at=now, webhook_next_at=None)
        elif final or attempts >= self.settings.max_attempts:
            values.update(webhook_status="failed", webhook_next_at=None)
        else:
            delay = min(
                self.settings.backoff_seconds * 2 ** (attempts - 1), self.settings.backoff_max_seconds
            )
            values.update(webhook_next_at=now + timedelta(seconds=delay))
        with self.db.write() as session:
            session.execute(update(TaskRow).where(TaskRow.id == task_id).values(**values))

    async def _deliver(self, client: httpx.AsyncClient, row: TaskRow) -> None:
        body = json.dumps(self.serialize(row), separators=(",", ":")).encode()
        secret = self.server_key.webhook_secret(row.account_id)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "restyle-webhook/1",
            "Restyle-Event": f"task.{row.status.lower()}",
            "Restyle-Task-Id": row.id,
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        }
        error: str | None = None
        final = False
        try:
            target = await asyncio.to_thread(self.guard.check, row.callback_url or "", "callback_url")
            response = await _post(client, target, body, headers)
            if not 200 <= response.status_code < 300:
                error = f"The receiver answered HTTP {response.status_code}."
        except (UrlForbidden, UrlInvalid) as exc:  # no retry makes a refused address acceptable
            error, final = f"The delivery was refused: {exc.message}", True
        except UrlError as exc:  # the name did not resolve (in time): retried like a failed connection
            error = f"The delivery failed: {exc.message}"
        except httpx.HTTPError as exc:
            error = f"The delivery failed: {type(exc).__name__}: {exc}"[:500]
        if error:
            log.info("webhook of task %s: attempt %d failed: %s", row.id, row.webhook_attempts + 1, error)
        await asyncio.to_thread(self._record, row.id, row.webhook_attempts + 1, error, final)

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Deliver what is due now; returns how many deliveries were attempted."""
        rows = await asyncio.to_thread(self._take_due, utcnow())
        await asyncio.gather(*(self._deliver(client, row) for row in rows))
        return len(rows)

    def client(self) -> httpx.AsyncClient:
        # no proxies from the environment: the request must go to the address the guard checked
        return httpx.AsyncClient(timeout=self.settings.timeout_seconds, follow_redirects=False, trust_env=False)


async def _post(client: httpx.AsyncClient, target: Target, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to the first checked address of the receiver that takes the connection."""
    failure: httpx.HTTPError | None = None
    for address in target.addresses:
        url, host_headers, extensions = target.pinned(address)
        try:
            return await client.post(url, content=body, headers=headers | host_headers, extensions=extensions)
        except httpx.ConnectError as exc:
            failure = exc
    raise failure or httpx.ConnectError("The callback URL's host has no address.")
