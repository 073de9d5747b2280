"""Loops the server runs beside requests: lease recovery, retention sweeps, webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from restyle.api.schemas import task_json
from restyle.api.services import Services
from restyle.tasks import lease, retention
from restyle.tasks.models import TaskRow
from restyle.tasks.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)


class Background:
    """Starts and stops the upkeep and webhook loops of one app."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.dispatcher = WebhookDispatcher(
            services.db,
            settings.webhooks,
            services.server_key,
            self._serialize,
            fetch_allow=settings.images.fetch_allow,
        )
        self._tasks: list[asyncio.Task[None]] = []

    def _serialize(self, row: TaskRow) -> dict[str, object]:
        return task_json(self.services, row, self.services.settings.public_url)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._upkeep()), asyncio.create_task(self._webhooks())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _upkeep(self) -> None:
        """Recover expired leases every quarter lease; sweep expired tasks every sweep interval."""
        settings = self.services.settings.tasks
        interval = max(0.25, min(settings.lease_seconds / 4, settings.sweep_interval_seconds))
        next_sweep = 0.0
        # Tasks that this host's dead workers held (a worker crash, or the server's before a restart)
        # are taken up at once instead of when their lease runs out.
        host = lease.host_identity() if self.services.queue.name == "local" else None
        while True:
            try:
                await asyncio.to_thread(
                    retention.recover, self.services.store, self.services.queue, host=host
                )
                if time.monotonic() >= next_sweep:
                    await asyncio.to_thread(
                        retention.sweep,
                        self.services.store,
                        self.services.storage,
                        retention_hours=settings.retention_hours,
                        changed=self.services.feed.publish,
                    )
                    next_sweep = time.monotonic() + settings.sweep_interval_seconds
            except Exception:
                log.exception("task upkeep failed; retrying")
            await asyncio.sleep(interval)

    async def _webhooks(self) -> None:
        async with self.dispatcher.client() as client:
            while True:
                try:
                    if await self.dispatcher.run_once(client):
                        continue
                except Exception:
                    log.exception("webhook delivery failed; retrying")
                await asyncio.sleep(self.services.settings.webhooks.poll_seconds)
