"""Task operations shared by every front: submit, wait, get, list, cancel, delete.

Fronts translate their wire format into a :class:`Submission` and the resulting task row back
into their wire format; everything in between happens here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from restyle.auth.limits import SubmitRateLimiter
from restyle.auth.models import AccountRow
from restyle.config import Settings
from restyle.domain import ImageSource, StylePreset, TaskStatus
from restyle.errors import Conflict, InvalidParameter, NotFound, QueueFull
from restyle.imaging.codecs import check_image
from restyle.imaging.fetch import guard_from_settings
from restyle.imaging.limits import input_rules
from restyle.imaging.urlguard import parse_url
from restyle.labels.request import request_labels
from restyle.requests import parse_generate_request, request_to_params
from restyle.safety import check_text, policy_for
from restyle.storage import Storage
from restyle.tasks.db import utcnow
from restyle.tasks.events import ChangeFeed
from restyle.tasks.layout import input_key, task_prefix
from restyle.tasks.models import TaskRow
from restyle.tasks.queue import TaskQueue
from restyle.tasks.store import TaskStore

MAX_IDEMPOTENCY_KEY = 255
POLL_SECONDS = 1.0  # waiters re-read the row at least this often, notification or not


@dataclass
class Submission:
    """A front's request in native terms: parameters by native name plus the inputs."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    image: ImageSource | None = None
    style_image: ImageSource | None = None
    idempotency_key: str | None = None
    callback_url: str | None = None
    front: str = "native"


class TaskService:
    """Submits tasks within the account's limits and reads them back, scoped to the account."""

    def __init__(
        self,
        settings: Settings,
        store: TaskStore,
        storage: Storage,
        queue: TaskQueue,
        limiter: SubmitRateLimiter,
        resolve_style: Callable[[str | int], StylePreset],
        feed: ChangeFeed,
    ) -> None:
        self.settings, self.store, self.storage, self.queue = settings, store, storage, queue
        self.limiter, self.resolve_style, self.feed = limiter, resolve_style, feed
        # URL inputs and callback URLs: checked here (400 at once), fetched or posted to later
        self.url_guard = guard_from_settings(settings.images)

    def _check_input(self, source: ImageSource | None, param: str, front: str) -> None:
        if source is None:
            return
        if source.url is not None:  # the worker fetches it; here only the URL and its addresses
            self.url_guard.check(source.url, param)
            return
        check_image(source.data or b"", rules=input_rules(front, self.settings.images), param=param)

    def submit(self, account: AccountRow, submission: Submission) -> tuple[TaskRow, bool]:
        """Create a task (or, for a repeated Idempotency-Key, find the earlier one): (row, created)."""
        row, created, _position = self.submit_counted(account, submission)
        return row, created

    def submit_counted(self, account: AccountRow, submission: Submission) -> tuple[TaskRow, bool, int | None]:
        """As :meth:`submit`, with a new task's queue position from the count the queue bound makes
        anyway (the PENDING tasks then, all older; None for a task found by its Idempotency-Key)."""
        # 1. validate the parameters
        if submission.image is None:
            raise InvalidParameter(
                "Parameter 'image' is required; send a face photo as a file, base64 or URL.", param="image"
            )
        defaults = {"min_identity": self.settings.faces.identity_threshold}
        request = parse_generate_request(
            {**defaults, **submission.fields},
            image=submission.image,
            style_image=submission.style_image,
            resolve_style=self.resolve_style,
        )
        request_labels(self.settings.labels, request)  # a bad label request is refused now
        check_text(request.prompt, policy_for(self.settings, account.options))  # a refused prompt: 422 now
        params = request_to_params(request)
        callback_url = submission.callback_url or None
        if callback_url is not None:
            parse_url(callback_url, "callback_url")  # its addresses after the limits, in step 4
        key = submission.idempotency_key
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidParameter(
                f"Header 'Idempotency-Key' must have 1 to {MAX_IDEMPOTENCY_KEY} characters.",
                param="Idempotency-Key",
            )
        fingerprint = _fingerprint(params, submission, callback_url)
        # 2. a retry with the same Idempotency-Key returns the first task
        if key is not None and (earlier := self.store.by_idempotency_key(account.id, key)) is not None:
            return _same_request(earlier, fingerprint), False, None
        # 3. limits (before decoding, the costly check): the global queue bound, then the account's
        # submit rate (a submit the full queue refuses does not use up the account's rate)
        pending, ahead = self.store.pending_ahead_of_new(account.id)
        if pending >= self.settings.limits.max_pending:
            raise QueueFull(
                f"The server's queue is full ({self.settings.limits.max_pending} waiting tasks); retry later."
            )
        self.limiter.hit(account)
        # 4. the inputs decode within the image limits (a bad photo is an error now, not a failed task);
        # URLs reach only public addresses (or allowed ones), the callback's again at each delivery
        self._check_input(submission.image, "image", submission.front)
        self._check_input(submission.style_image, "style_image", submission.front)
        if callback_url is not None:
            self.url_guard.check(callback_url, "callback_url")
        # 5. store the inputs, then the row
        task_id = str(uuid.uuid4())
        try:
            inputs = {
                name: self._store_input(account.id, task_id, name, source)
                for name, source in (("image", submission.image), ("style_image", submission.style_image))
                if source is not None
            }
        except Exception:  # e.g. S3 failed on the second input: leave no input without a task row
            with contextlib.suppress(Exception):
                self.storage.delete_prefix(task_prefix(account.id, task_id))
            raise
        now = utcnow()
        row = TaskRow(
            id=task_id,
            account_id=account.id,
            front=submission.front,
            status=TaskStatus.PENDING.value,
            params=params,
            inputs=inputs,
            idempotency_key=key,
            fingerprint=fingerprint,
            callback_url=callback_url,
            submitted_at=now,
            expires_at=now + timedelta(hours=self.settings.tasks.retention_hours),
            attempts=0,
            max_attempts=self.settings.tasks.max_attempts,
            cancel_requested=False,
            progress=0.0,
            result_keys=[],
            timings_ms={},
            webhook_attempts=0,
        )
        try:
            stored, created = self.store.insert(row)
        except Exception:  # e.g. the database went away: its inputs would have no row to expire them
            with contextlib.suppress(Exception):
                # a commit whose answer was lost may have landed: keep the inputs of a row that exists
                # (if the database cannot say, they stay too; an orphan is better than a broken task)
                if not self.store.exists(task_id):
                    self.storage.delete_prefix(task_prefix(account.id, task_id))
            raise
        if not created:  # lost an Idempotency-Key race: drop our copy of the inputs
            self.storage.delete_prefix(task_prefix(account.id, task_id))
            return _same_request(stored, fingerprint), False, None
        # 6. wake a worker
        self.queue.notify(task_id)
        return stored, True, ahead

    def _store_input(self, account_id: str, task_id: str, name: str, source: ImageSource) -> dict[str, str]:
        if source.data is None:
            return {"url": source.url or ""}
        key = input_key(account_id, task_id, name)
        self.storage.put(key, source.data)
        return {"key": key}

    async def wait(self, task_id: str, account_id: str, timeout: float) -> TaskRow:
        """The task once final, or as it is after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            row = await asyncio.to_thread(self.store.get, task_id, account_id)
            remaining = deadline - loop.time()
            if row.task_status.is_final or remaining <= 0:
                return row
            await self.feed.wait(task_id, min(remaining, POLL_SECONDS))

    def find(self, task_id: str, account_id: str, fronts: Collection[str]) -> TaskRow | None:
        """The account's task submitted through one of ``fronts``, or None when it is missing, another
        account's or another front's (what vendor fronts answer as not found / UNKNOWN)."""
        try:
            row = self.store.get(task_id, account_id)
        except NotFound:
            return None
        return row if row.front in fronts else None

    def cancel(self, task_id: str, account_id: str) -> TaskRow:
        row = self.store.request_cancel(task_id, account_id)
        self.feed.publish(task_id)
        return row

    def delete(self, task_id: str, account_id: str) -> TaskRow:
        """Delete the task and its files (a running task stops at its next step)."""
        row = self.store.delete(task_id, account_id)
        self.storage.delete_prefix(task_prefix(row.account_id, row.id))
        self.feed.publish(task_id)
        return row


    def purge_account(self, account_id: str) -> int:
        """Delete every task of an account with its files (running ones stop at their next step)."""
        removed = self.store.delete_account_tasks(account_id)
        self.storage.delete_prefix(f"tasks/{account_id}")
        for task_id in removed:
            self.feed.publish(task_id)
        return len(removed)


def _fingerprint(params: dict[str, Any], submission: Submission, callback_url: str | None) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for source in (submission.image, submission.style_image):
        if source is None:
            digest.update(b"|none")
        elif source.data is not None:
            digest.update(b"|data:" + hashlib.sha256(source.data).digest())
        else:
            digest.update(b"|url:" + (source.url or "").encode())
    digest.update(b"|cb:" + (callback_url or "").encode())
    return digest.hexdigest()


def _same_request(row: TaskRow, fingerprint: str) -> TaskRow:
    if row.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used with a different request; use a new key for a new task.",
            code="idempotency.mismatch",
        )
    return row
