"""The queue interface: how the API tells workers that work is waiting.

The task row is the truth and a queue message carries only a task id, as a wake-up: a worker
that wakes claims the oldest eligible task (see :mod:`restyle.tasks.lease`), which may be a
different one when per-account limits say so. The in-process pool (:mod:`restyle.tasks.local`)
is the default; a Celery-backed queue replaces it by implementing the same methods, without
touching the API or the runner.
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


QUEUES: Registry[TaskQueue] = Registry("queue", {"local": "restyle.tasks.local:LocalWorkerPool"})


def create_queue(settings: Settings, feed: ChangeFeed | None = None) -> TaskQueue:
    """The queue chosen by ``settings.workers.queue``."""
    return QUEUES.create(settings.workers.queue, settings, feed)
