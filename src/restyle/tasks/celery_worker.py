"""The worker side of the Celery queue: what each ``restyle worker`` process does with a wake-up.

Each worker process (Celery's prefork children) warms its own pipeline once when it starts
(``worker_process_init``), then answers every wake-up by claiming one task under the lease rules
and running it with the same :class:`~restyle.tasks.runner.Runner` as the in-process pool. A
finished task may have freed a slot of a busy account, so the process then announces one more
wake-up if claimable work is left: tasks held back by an account's limit are not stranded, and
a claim that lost its races to other workers is tried again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from restyle.tasks.celery_queue import WAKE_TASK, queue_name

if TYPE_CHECKING:
    from celery import Celery

    from restyle.config import Settings
    from restyle.tasks.db import Database
    from restyle.tasks.runner import Runner

log = logging.getLogger(__name__)


@dataclass
class _Process:
    """The state of one worker process: its database, runner and change publisher."""

    db: Database
    runner: Runner
    close_feed: Any


_process: _Process | None = None


def _warm(settings: Settings) -> _Process:
    """1. open the database (after the fork: no shared connections); 2. warm the pipeline;
    3. a runner that reports changes to every API process (the change feed)."""
    from restyle.pipeline import Pipeline
    from restyle.storage import create_storage
    from restyle.tasks import lease
    from restyle.tasks.db import Database
    from restyle.tasks.pg_events import create_publisher
    from restyle.tasks.runner import Runner

    db = Database.from_settings(settings)
    pipeline = Pipeline(settings)
    pipeline.setup()
    publish, close_feed = create_publisher(db)
    runner = Runner(
        settings,
        db,
        create_storage(settings),
        pipeline,
        worker_id=lease.local_worker_id(0),
        publish=publish,
    )
    log.info("worker process %d ready", os.getpid())
    return _Process(db, runner, close_feed)


def install(app: Celery, settings: Settings) -> None:
    """Register the wake-up task and the per-process start and stop hooks on ``app``."""
    from celery.signals import worker_process_init, worker_process_shutdown

    from restyle.tasks import lease

    def on_start(**_kw: Any) -> None:
        global _process
        _process = _warm(settings)

    def on_stop(**_kw: Any) -> None:
        if _process is not None:
            _process.close_feed()
            _process.db.dispose()

    worker_process_init.connect(on_start, weak=False)
    worker_process_shutdown.connect(on_stop, weak=False)

    def wake(task_id: str) -> bool:
        """Claim and run one task (maybe not ``task_id``: the oldest eligible one); True if one ran."""
        global _process
        if _process is None:  # a pool without process hooks (solo, threads): warm on first use
            _process = _warm(settings)
        ran = _process.runner.run_next()
        # claimable work left: a slot this task freed, or a claim that lost every race to other
        # workers (lease.claim gives up after a bounded number of attempts); one more wake-up
        if lease.has_claimable(_process.db):
            app.send_task(WAKE_TASK, args=[task_id], queue=queue_name(settings))
        return ran

    app.task(name=WAKE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(wake)
