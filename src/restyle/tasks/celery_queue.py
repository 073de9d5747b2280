"""The Celery queue plug-in (``workers.queue = celery``): wake-ups for external ``restyle worker``s.

The task row stays the truth. A message carries only a task id, as a wake-up: the worker that
gets it claims under the lease rules (:func:`restyle.tasks.lease.claim`: the oldest eligible task,
per-account limits), which may be another task than the one named. Messages are acknowledged
late and rejected back to the broker when their worker process dies, one at a time per process
(prefetch 1); a task whose worker died is recovered from its lease by the upkeep loop, not from
the message. Queues are named per engine kind (``<prefix>.classic``, ``<prefix>.diffusion``), so
GPU workers take only GPU work. A lost message (broker restart) only delays a task: the upkeep
loop re-announces PENDING tasks that wait too long (:func:`restyle.tasks.upkeep.announce`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from restyle.errors import ConfigurationError, MissingExtra
from restyle.tasks.queue import TaskQueue

if TYPE_CHECKING:
    from celery import Celery

    from restyle.config import Settings
    from restyle.tasks.events import ChangeFeed

log = logging.getLogger(__name__)

WAKE_TASK = "restyle.wake"
VISIBILITY_MARGIN_SECONDS = 300.0  # a message's visibility outlasts the longest task by this much


def queue_name(settings: Settings, kind: str | None = None) -> str:
    """The broker queue of an engine kind (default: this deployment's engine)."""
    return f"{settings.workers.queue_prefix}.{kind or settings.engine.name}"


def create_celery_app(settings: Settings) -> Celery:
    """A Celery app configured from ``settings`` (the same in the API and in workers)."""
    try:
        from celery import Celery
    except ImportError as exc:  # pragma: no cover - the distributed extra is missing
        raise MissingExtra("workers.queue=celery needs Celery: pip install 'restyle[distributed]'.") from exc
    broker = settings.workers.broker_url
    if not broker:
        raise ConfigurationError(
            "workers.queue=celery needs a broker: set RESTYLE_WORKERS__BROKER_URL (e.g. redis://127.0.0.1:6379/1).",
            param="workers.broker_url",
        )
    app = Celery("restyle", broker=broker, set_as_current=False)
    visibility = settings.tasks.deadline_seconds + settings.tasks.lease_seconds + VISIBILITY_MARGIN_SECONDS
    app.conf.update(
        task_acks_late=True,  # acknowledged after the run: a message whose worker died is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a process holds one message at a time
        broker_transport_options={"visibility_timeout": visibility},
        task_default_queue=queue_name(settings),
        task_ignore_result=True,  # results live on the task row
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # workers wait out a broker restart
        broker_connection_timeout=3,
        # a submit must not hang on a broker that is down: the row is stored and the upkeep loop
        # re-announces it, so one quick try is enough
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        worker_proc_alive_timeout=180,  # each worker process warms its pipeline before taking work
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


class CeleryQueue(TaskQueue):
    """The API side: publishes wake-ups; ``restyle worker`` processes do the work."""

    name = "celery"
    reannounce = True

    def __init__(self, settings: Settings, feed: ChangeFeed | None = None) -> None:
        self.settings = settings
        self.feed = feed
        self.app = create_celery_app(settings)
        self.queue = queue_name(settings)

    def notify(self, task_id: str) -> None:
        """Send a wake-up; a broker that is down is logged, not raised (the row is already stored)."""
        try:
            self.app.send_task(WAKE_TASK, args=[task_id], queue=self.queue)
        except Exception as exc:  # kombu/redis connection errors: the upkeep loop re-announces
            log.warning("could not announce task %s to the broker (%s); it will be re-announced", task_id, exc)

    def ready(self) -> bool:
        """Workers run elsewhere; the API is ready to take tasks whenever it runs."""
        return True

    def describe(self) -> dict[str, Any]:
        return {"queue": self.name, "broker_queue": self.queue}

    def stop(self) -> None:
        self.app.close()
