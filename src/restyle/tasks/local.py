"""The in-process worker pool: one spawned process per core, each claiming tasks from the store."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import queue
import threading
from multiprocessing.process import BaseProcess
from typing import Any

from restyle.config import Settings
from restyle.tasks.events import ChangeFeed
from restyle.tasks.queue import TaskQueue
from restyle.tasks.worker import WorkerChannels, worker_main

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 15.0


class LocalWorkerPool(TaskQueue):
    """Worker processes (spawn context) supervised by a thread; a dead worker is replaced."""

    name = "local"

    def __init__(self, settings: Settings, feed: ChangeFeed | None = None) -> None:
        self.settings = settings
        self.feed = feed
        self.size = settings.worker_count
        self._ctx = multiprocessing.get_context("spawn")
        self._channels = WorkerChannels(
            wake=self._ctx.Queue(),
            changes=self._ctx.Queue(),
            stopping=self._ctx.Event(),
            warmed=self._ctx.Array("b", self.size),
        )
        self._processes: list[BaseProcess] = []
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()

    def start(self) -> None:
        settings_json = self.settings.model_dump_json()
        self._processes = [self._spawn(settings_json, index) for index in range(self.size)]
        for target, name in ((self._forward_changes, "pool-changes"), (self._supervise, "pool-supervisor")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _spawn(self, settings_json: str, index: int) -> BaseProcess:
        process = self._ctx.Process(
            target=worker_main,
            args=(settings_json, self._channels, os.getpid(), index),
            name=f"restyle-worker-{index}",
            daemon=True,
        )
        process.start()
        return process

    def _supervise(self) -> None:
        settings_json = self.settings.model_dump_json()
        while not self._closed.wait(1.0):
            for index, process in enumerate(self._processes):
                if not process.is_alive() and not self._closed.is_set():
                    log.error("worker %d exited with code %s; starting a new one", index, process.exitcode)
                    self._channels.warmed[index] = 0  # its replacement says when it is ready
                    self._processes[index] = self._spawn(settings_json, index)

    def _forward_changes(self) -> None:
        while not self._closed.is_set():
            try:
                task_id, event = self._channels.changes.get(timeout=0.5)
            except queue.Empty:
                continue
            except (EOFError, OSError, TypeError, ValueError):
                return
            if self.feed is not None:
                self.feed.publish(task_id, event)

    def notify(self, task_id: str) -> None:
        # not started (serve --no-workers): nobody reads the wake queue, whose pipe would fill and hang exit
        if self._processes and not self._closed.is_set():
            self._channels.wake.put_nowait(task_id)

    def ready(self) -> bool:
        if self._closed.is_set():
            return False
        return self._warmed() > 0

    def _warmed(self) -> int:
        """Workers that are alive and have their engine ready."""
        return sum(
            1 for index, p in enumerate(self._processes) if p.is_alive() and self._channels.warmed[index]
        )

    def describe(self) -> dict[str, Any]:
        alive = sum(1 for p in self._processes if p.is_alive())
        return {
            "queue": self.name,
            "workers": self.size,
            "alive": alive,
            "warmed": 0 if self._closed.is_set() else self._warmed(),
        }

    def stop(self) -> None:
        """Running tasks stop at their next step and go back to PENDING; then the processes exit."""
        self._closed.set()
        self._channels.stopping.set()
        for _ in self._processes:
            self._channels.wake.put_nowait(None)
        for process in self._processes:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join(1.0)
        for thread in self._threads:
            thread.join(2.0)
        for channel in (self._channels.wake, self._channels.changes):
            channel.close()
            channel.cancel_join_thread()
        # drop the last references now, so that the semaphores are released even if the server then
        # exits by a re-raised signal (uvicorn does that on SIGTERM) without running finalizers
        self._processes = []
        del self._channels
        gc.collect()
