"""The runner: one claimed task through numbered steps, ending in exactly one final write.

Steps: 1. load inputs from storage; 2. rebuild the request; 3. render (the pipeline's own steps,
with a check between them); 4. store the outputs; 5. finish the row while the lease is held.
A RestyleError makes the task FAILED with its code and message; anything else is logged and
becomes ``internal``. Nothing leaves a task RUNNING: a lost lease means someone else owns it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from restyle.auth.models import AccountRow
from restyle.config import Settings
from restyle.domain import GenerateResult, ImageSource, TaskStatus
from restyle.errors import DeadlineExceeded, RestyleError, StoreUnavailable, TaskCanceled
from restyle.imaging.fetch import FetchLimits, fetch_image, guard_from_settings
from restyle.pipeline import Pipeline
from restyle.requests import request_from_params
from restyle.safety import policy_for
from restyle.storage import Storage
from restyle.tasks import lease
from restyle.tasks.db import Database, utcnow
from restyle.tasks.layout import output_key
from restyle.tasks.lease import Claim, LeaseState

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "An unexpected error stopped the task; the server logged the details."
STORE_PROGRESS = 0.98  # the outputs are stored after the pipeline's last step (encode, 0.95)


class _Abandon(Exception):
    """Stop without a final write: the lease is lost, or the worker is shutting down (release)."""

    def __init__(self, release: bool) -> None:
        super().__init__("release" if release else "lease lost")
        self.release = release


class Heartbeat(threading.Thread):
    """Extends a task's lease every ``interval`` seconds until stopped or the lease is lost."""

    def __init__(self, db: Database, claim: Claim, interval: float, lease_seconds: float) -> None:
        super().__init__(name=f"heartbeat-{claim.task.id}", daemon=True)
        self._db, self._claim, self._interval, self._lease = db, claim, interval, lease_seconds
        self._stopped = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                if not lease.heartbeat(self._db, self._claim.task.id, self._claim.token, self._lease):
                    self.lost = True
                    return
            except Exception:  # a database hiccup: try again next beat; the lease has slack
                log.warning("heartbeat of task %s failed", self._claim.task.id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()


class Runner:
    """Claims and runs tasks with one Pipeline; one runner per worker process."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: Storage,
        pipeline: Pipeline,
        *,
        worker_id: str,
        publish: Callable[[str, dict[str, Any] | None], None] | None = None,
        stopping: Callable[[], bool] | None = None,
    ) -> None:
        self.settings, self.db, self.storage, self.pipeline = settings, db, storage, pipeline
        self.worker_id = worker_id
        self._publish = publish or (lambda _task_id, _event: None)
        self._stopping = stopping or (lambda: False)

    def run_next(self) -> bool:
        """Claim and run one task; False when none is claimable."""
        claim = lease.claim(self.db, self.worker_id, self.settings.tasks.lease_seconds)
        if claim is None:
            return False
        self.run(claim)
        return True

    def run(self, claim: Claim) -> None:
        task, token = claim.task, claim.token
        self._publish(task.id, {"status": "RUNNING", "attempt": task.attempts})
        beat = Heartbeat(
            self.db, claim, self.settings.tasks.heartbeat_seconds, self.settings.tasks.lease_seconds
        )
        beat.start()
        try:
            outcome = self._execute(claim, beat)
        except _Abandon as stop:
            if stop.release:
                lease.release(self.db, task.id, token)
            outcome = None
        finally:
            beat.stop()
        if outcome is not None:
            status, values = outcome
            if not lease.finish(self.db, task.id, token, status, **values):
                for key in values.get("result_keys", []):  # superseded or deleted: leave no file behind
                    self.storage.delete(key)
        self._publish(task.id, None)

    def _execute(self, claim: Claim, beat: Heartbeat) -> tuple[TaskStatus, dict[str, Any]]:
        task = claim.task
        timings: dict[str, float] = {"queue": (utcnow() - task.submitted_at).total_seconds() * 1000.0}
        check = self._checker(claim, beat)
        try:
            progress = self._progress(claim)
            # 1. load inputs
            progress("load", 0.0)
            started = time.perf_counter()
            image = self._load(task.inputs["image"], "image")
            style = task.inputs.get("style_image")
            style_image = self._load(style, "style_image") if style else None
            # 2. rebuild the request
            request = replace(request_from_params(task.params, image, style_image), front=task.front)
            timings["load"] = (time.perf_counter() - started) * 1000.0
            # 3. render
            safety = policy_for(self.settings, self._account_options(task.account_id))
            result = self.pipeline.render(request, progress=progress, check=check, task_id=task.id, safety=safety)
            # 4. store the outputs
            progress("store", STORE_PROGRESS)
            started = time.perf_counter()
            key = output_key(task.account_id, task.id, task.attempts, 0, result.format)
            self.storage.put(key, result.encoded)
            timings["store"] = (time.perf_counter() - started) * 1000.0
            try:
                check()
            except BaseException:  # canceled, deadline or lease lost after storing: leave no file
                self.storage.delete(key)
                raise
            return TaskStatus.SUCCEEDED, _success(result, key, timings)
        except _Abandon:
            raise
        except StoreUnavailable as exc:  # no write can land now: the lease runs out and the task is retried
            log.warning("task %s stopped: the task database is unavailable", task.id)
            raise _Abandon(release=False) from exc
        except TaskCanceled as exc:
            return TaskStatus.CANCELED, _failure(exc, timings)
        except RestyleError as exc:
            return TaskStatus.FAILED, _failure(exc, timings)
        except Exception:
            log.exception("task %s failed unexpectedly", task.id)
            return TaskStatus.FAILED, {
                "error_code": "internal",
                "error_message": INTERNAL_MESSAGE,
                "timings_ms": timings,
            }

    def _account_options(self, account_id: str) -> dict[str, Any] | None:
        """The account's options (its content-safety settings); None for an account that is gone."""
        with self.db.read() as session:
            account = session.get(AccountRow, account_id)
            return None if account is None else account.options

    def _load(self, spec: dict[str, Any], param: str) -> ImageSource:
        """An input's bytes: from storage, or fetched from its URL through the address guard."""
        if spec.get("key"):
            return ImageSource(data=self.storage.get(spec["key"]))
        images = self.settings.images
        data = fetch_image(
            spec.get("url") or "",
            guard=guard_from_settings(images),
            limits=FetchLimits.from_settings(images),
            param=param,
        )
        return ImageSource(data=data)

    def _checker(self, claim: Claim, beat: Heartbeat) -> Callable[[], None]:
        deadline = claim.task.started_at or utcnow()
        deadline += timedelta(seconds=self.settings.tasks.deadline_seconds)

        def check() -> None:
            if self._stopping():
                raise _Abandon(release=True)
            state = LeaseState.LOST if beat.lost else lease.lease_state(self.db, claim.task.id, claim.token)
            if state is LeaseState.LOST:
                raise _Abandon(release=False)
            if state is LeaseState.CANCEL_REQUESTED:
                raise TaskCanceled("The task was canceled while it was running.")
            if utcnow() > deadline:
                raise DeadlineExceeded(
                    f"The task ran longer than its deadline of {self.settings.tasks.deadline_seconds:g} seconds."
                )

        return check

    def _progress(self, claim: Claim) -> Callable[[str, float], None]:
        def progress(step: str, fraction: float) -> None:
            lease.report_progress(self.db, claim.task.id, claim.token, step, fraction)
            self._publish(claim.task.id, {"step": step, "progress": round(fraction, 4)})

        return progress


def _success(result: GenerateResult, key: str, timings: dict[str, float]) -> dict[str, Any]:
    summary = result.summary()
    all_timings = {**timings, **summary["timings_ms"]}
    return {
        "result_keys": [key],
        "result": summary,
        "timings_ms": {name: round(ms, 1) for name, ms in all_timings.items()},
        "identity_distance": result.identity_distance,
        "step": "done",
        "progress": 1.0,
        "error_code": None,
        "error_message": None,
    }


def _failure(exc: RestyleError, timings: dict[str, float]) -> dict[str, Any]:
    return {
        "error_code": exc.code,
        "error_message": exc.message,
        "timings_ms": {name: round(ms, 1) for name, ms in timings.items()},
    }
