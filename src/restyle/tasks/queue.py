"""The queue interface: how the API tells workers that work is waiting.

The task row is the truth and a queue message carries only a task id, as a wake-up: a worker
that wakes claims the oldest eligible task (see :mod:`restyle.tasks.lease`), which may be a
different one when per-account limits say so. The in-process pool (:mod:`restyle.tasks.local`)
is the default; the Celery queue (:mod:`restyle.tasks.celery_queue`, ``queue = celery``) replaces
it by implementing the same methods, without touching the API or the runner.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from restyle.registry import Registry

if TYPE_CHECKING:
    from restyle.config import Settings
    from restyle.tasks.events import ChangeFeed


class TaskQueue(abc.ABC):
    """Base of queue plug-ins."""

    name: str = "queue"
    # whether a wake-up can be lost (a broker restart); then the upkeep loop re-announces tasks
    # that wait too long. The in-process pool's workers also poll, so they need none.
    reannounce: bool = False

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start workers or connect to the broker."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop workers (running tasks go back to PENDING) or disconnect."""

    @abc.abstractmethod
    def notify(self, task_id: str) -> None:
        """Task ``task_id`` became claimable (new, or requeued)."""

    def ready(self) -> bool:
        """Whether at least one worker has warmed its engine and can take tasks."""
        return True

    def describe(self) -> dict[str, Any]:
        return {"queue": self.name}


class NoWorkers(TaskQueue):
    """An API process without workers of its own (``restyle serve --no-workers`` on the local queue):
    tasks wait in the store for workers elsewhere (other ``restyle serve`` processes poll it)."""

    name = "none"

    def __init__(self, settings: Settings | None = None, feed: ChangeFeed | None = None) -> None:
        self.settings, self.feed = settings, feed

    def notify(self, task_id: str) -> None:
        """Nothing to wake here: workers of other processes find the task when they poll."""

    def describe(self) -> dict[str, Any]:
        return {"queue": self.name, "workers": 0}


QUEUES: Registry[TaskQueue] = Registry(
    "queue",
    {
        "local": "restyle.tasks.local:LocalWorkerPool",
        "celery": "restyle.tasks.celery_queue:CeleryQueue",
        "none": "restyle.tasks.queue:NoWorkers",
    },
)


def create_queue(settings: Settings, feed: ChangeFeed | None = None) -> TaskQueue:
    """The queue chosen by ``settings.workers.queue``."""
    return QUEUES.create(settings.workers.queue, settings, feed)
