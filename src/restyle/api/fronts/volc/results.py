"""A task as Volcengine's visual API shows it: the images (``binary_data_base64`` or signed
``image_urls`` per ``return_url``) and, for the get-result actions, ``data.status``."""

from __future__ import annotations

import base64
from typing import Any

from restyle.api.services import Services
from restyle.tasks.db import utcnow
from restyle.tasks.models import TaskRow

FRONTS = ("volc", "portrait")  # the task fronts this API created (and may read back)
STATUS = {
    "PENDING": "in_queue",
    "RUNNING": "generating",
    "SUCCEEDED": "done",
    "FAILED": "done",
    "CANCELED": "done",
}
NOT_FOUND = "not_found"
EXPIRED = "expired"
ALGORITHM_OK = {"status_code": 0, "status_message": "Success"}


def find_task(services: Services, task_id: str, account_id: str) -> TaskRow | None:
    """The account's task of this front, or None when missing, another account's or another front's."""
    return services.tasks.find(task_id, account_id, FRONTS)


def is_expired(row: TaskRow) -> bool:
    return row.expires_at <= utcnow()


def images(
    services: Services, row: TaskRow, base_url: str, return_url: bool, keys: list[str] | None = None
) -> dict[str, Any]:
    """``binary_data_base64`` (the default) or ``image_urls`` (signed links that end with the task) of
    ``keys`` (the task's results by default)."""
    keys = list(row.result_keys) if keys is None else keys
    if return_url:
        urls = [services.signer.task_url(base_url, key, row.expires_at) for key in keys]
        return {"binary_data_base64": [], "image_urls": urls}
    encoded = [base64.b64encode(services.storage.get(key)).decode("ascii") for key in keys]
    return {"binary_data_base64": encoded, "image_urls": None}


def result_data(services: Services, row: TaskRow, base_url: str, return_url: bool) -> dict[str, Any]:
    """``data`` of a successful synchronous call."""
    return {**images(services, row, base_url, return_url), "algorithm_base_resp": ALGORITHM_OK}


def status_data(task_id: str, status: str) -> dict[str, Any]:
    """``data`` of a get-result for a task that has no images (queued, running, missing, expired)."""
    return {"task_id": task_id, "status": status, "binary_data_base64": [], "image_urls": None}
