"""Loops the server runs beside requests: lease recovery, retention sweeps, re-announcing waiting
tasks, webhook delivery. Every API process runs them, but only the upkeep leader acts
(:mod:`restyle.tasks.leader`: one process of the whole deployment), so each runs exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from restyle.api.schemas import task_json
from restyle.api.services import Services
from restyle.tasks import lease, retention
from restyle.tasks.leader import create_leader
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
        self.leader = create_leader(services.db, settings.data_dir)
        self.leading = False
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
        await asyncio.to_thread(self.leader.release)
        await asyncio.to_thread(self.services.feed.close)

    async def _upkeep(self) -> None:
        """While leading: recover expired leases every quarter lease, re-announce tasks that wait
        (queues whose wake-ups can be lost), sweep expired tasks every sweep interval."""
        settings = self.services.settings.tasks
        queue = self.services.queue
        interval = max(0.25, min(settings.lease_seconds / 4, settings.sweep_interval_seconds))
        next_sweep = 0.0
        # Tasks that this host's dead workers held (a worker crash, or the server's before a restart)
        # are taken up at once instead of when their lease runs out.
        host = lease.host_identity() if queue.name == "local" else None
        while True:
            try:
                self.leading = await asyncio.to_thread(self.leader.check)
                if self.leading:
                    await asyncio.to_thread(retention.recover, self.services.store, queue, host=host)
                    if queue.reannounce:
                        await asyncio.to_thread(retention.announce, self.services.store, queue, interval)
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
                    if self.leading and await self.dispatcher.run_once(client):
                        continue
                except Exception:
                    log.exception("webhook delivery failed; retrying")
                await asyncio.sleep(self.services.settings.webhooks.poll_seconds)
