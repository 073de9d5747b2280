"""Prometheus metrics: task counts and queue depth read from the store at scrape time, and
histograms of step timings, end-to-end times and identity distances of tasks finished since start.

Finished tasks are read from the rows (the truth), so the numbers are right whichever process or
host ran the task.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from restyle.tasks.db import utcnow
from restyle.tasks.models import TaskRow
from restyle.tasks.queue import TaskQueue
from restyle.tasks.store import TaskStore

_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
COMMIT_SLACK = timedelta(minutes=2)  # longer than any write waits for the database lock
_DISTANCES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.5)


def face_outcome(face: dict[str, Any]) -> str:
    """The ``restyle_faces`` label of one face of a task's result summary."""
    if face.get("identity_lost") or not face.get("guard_passed", True):
        return "over_threshold"  # over the threshold or not found again at its place: the task warns
    if face.get("identity_distance") is None:
        return "not_measured"
    return "passed"


class _StoreCollector(Collector):
    def __init__(self, store: TaskStore, queue: TaskQueue) -> None:
        self.store, self.queue = store, queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.store.counts_by_status()
        tasks = GaugeMetricFamily("restyle_tasks", "Tasks in the store by status.", labels=["status"])
        for status, count in counts.items():
            tasks.add_metric([status], count)
        yield tasks
        yield GaugeMetricFamily("restyle_queue_depth", "PENDING tasks.", value=counts["PENDING"])
        yield GaugeMetricFamily(
            "restyle_workers_ready", "1 when a worker has warmed up.", value=int(self.queue.ready())
        )


class TaskMetrics:
    """The app's metric registry (one per app, so that several apps can live in one process)."""

    def __init__(self, store: TaskStore, queue: TaskQueue) -> None:
        self.store = store
        self.registry = CollectorRegistry()
        self.registry.register(_StoreCollector(store, queue))
        self.step_seconds = Histogram(
            "restyle_step_seconds",
            "Time per runner step.",
            ["step"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.task_seconds = Histogram(
            "restyle_task_seconds",
            "Submit to end, by final status.",
            ["status"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.identity = Histogram(
            "restyle_identity_distance",
            "Identity distance of results.",
            buckets=_DISTANCES,
            registry=self.registry,
        )
        self.finished = Counter(
            "restyle_tasks_finished", "Tasks finished, by status.", ["status"], registry=self.registry
        )
        self.faces = Counter(
            "restyle_faces",
            "Faces of finished tasks by outcome: passed (identity under the request's threshold), "
            "over_threshold (the guard could not bring it under, or the face was lost; the task warns), "
            "not_measured (no identity could be measured).",
            ["outcome"],
            registry=self.registry,
        )
        self._lock = threading.Lock()  # scrapes run in a thread pool and may overlap
        self._watermark = utcnow()
        self._seen: dict[str, datetime] = {}  # id -> finished_at of tasks observed within the slack

    def _observe(self, row: TaskRow) -> None:
        self.finished.labels(row.status).inc()
        if row.finished_at is not None:
            self.task_seconds.labels(row.status).observe((row.finished_at - row.submitted_at).total_seconds())
        for step, ms in (row.timings_ms or {}).items():
            self.step_seconds.labels(step).observe(ms / 1000.0)
        if row.identity_distance is not None:
            self.identity.observe(row.identity_distance)
        for face in (row.result or {}).get("faces", []):
            self.faces.labels(face_outcome(face)).inc()

    def collect_finished(self) -> None:
        """Observe tasks that finished since the last scrape, each once.

        ``finished_at`` is stamped before the row commits, so a row may appear after a scrape that
        already saw a later one: every scrape looks back ``COMMIT_SLACK`` further than the newest
        time seen and skips the ids it already counted.
        """
        with self._lock:
            self._collect_finished()

    def _collect_finished(self) -> None:
        now = utcnow()
        since = self._watermark - COMMIT_SLACK
        for row in self.store.finished_since(since):
            if row.id in self._seen or row.finished_at is None:
                continue
            self._observe(row)
            self._seen[row.id] = row.finished_at
            # never ahead of the clock: a row stamped in the future must not hide later ones
            self._watermark = min(max(self._watermark, row.finished_at), now)
        horizon = self._watermark - COMMIT_SLACK
        self._seen = {task_id: at for task_id, at in self._seen.items() if at >= horizon}

    def render(self) -> bytes:
        self.collect_finished()
        return generate_latest(self.registry)
