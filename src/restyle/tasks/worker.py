"""The body of one worker process of the in-process pool (spawned, so it builds its own Pipeline)."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class WorkerChannels:
    """What the pool shares with a worker: wake-ups in, changed task ids out, and two flags."""

    wake: Any  # multiprocessing Queue of task ids (wake-ups)
    changes: Any  # multiprocessing Queue of (task id, event or None) the worker reports
    stopping: Any  # multiprocessing Event: finish the current step, hand the task back, exit
    warmed: Any  # multiprocessing Array('b'): warmed[i] is 1 while worker i has its engine ready


def limit_threads(threads: int) -> None:
    """One worker per core: keep OpenMP/BLAS/OpenCV inside a worker to ``threads`` threads."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:  # pragma: no cover - cv2 is a core dependency
        pass


def _exit_with_parent(parent_pid: int) -> None:
    """If the server dies (even by kill -9), stop at once: the lease expires and the task is retried."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(3)


def worker_main(settings_json: str, channels: WorkerChannels, parent_pid: int, index: int) -> None:
    """Set up once, then claim and run tasks until told to stop."""
    from restyle.config import Settings

    settings = Settings.model_validate_json(settings_json)
    limit_threads(settings.workers.threads_per_worker)
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s worker-%(process)d %(message)s"
    )
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()

    from restyle.pipeline import Pipeline
    from restyle.storage import create_storage
    from restyle.tasks import lease
    from restyle.tasks.db import Database
    from restyle.tasks.runner import Runner

    db = Database.from_settings(settings)
    pipeline = Pipeline(settings)
    pipeline.setup()

    def publish(task_id: str, event: dict[str, Any] | None) -> None:
        with contextlib.suppress(queue.Full):  # waiters fall back to polling
            channels.changes.put_nowait((task_id, event))

    runner = Runner(
        settings,
        db,
        create_storage(settings),
        pipeline,
        worker_id=lease.local_worker_id(index),
        publish=publish,
        stopping=channels.stopping.is_set,
    )
    channels.warmed[index] = 1
    log.debug("worker %d ready", index)
    while not channels.stopping.is_set():
        try:
            if runner.run_next():
                continue
        except Exception:  # e.g. the database is briefly unreachable: wait and try again
            log.exception("worker %d could not claim a task", index)
        with contextlib.suppress(queue.Empty):
            channels.wake.get(timeout=settings.workers.poll_seconds)
    channels.warmed[index] = 0
    db.dispose()
