"""A model request run to completion for the synchronous fronts that store the result themselves
(veImageX GetCVImageGenerateResult, TOS aigc): submit, wait within ``server.max_wait_seconds``, read
the image, and the model response (``RespJson`` / ``resp_json``) Volcengine's model API would answer."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from restyle.api.fronts.models.req_keys import Translated
from restyle.api.services import Services
from restyle.auth.models import AccountRow
from restyle.errors import DeadlineExceeded, RestyleError
from restyle.tasks.models import TaskRow

SUCCESS = 10000
ALGORITHM_OK = {"status_code": 0, "status_message": "Success"}
SERVER_FAULTS = frozenset({"internal", "task.lost"})  # a failed task with these codes is the server's fault


@dataclass(frozen=True)
class Generated:
    """A finished task, its first result image and how long the call took."""

    row: TaskRow
    image: bytes
    seconds: float


def task_error(row: TaskRow) -> RestyleError:
    """The error a failed or canceled task carries, as a RestyleError with its own code."""
    code = row.error_code or ("task.canceled" if row.status == "CANCELED" else "internal")
    status = 500 if code in SERVER_FAULTS else 422
    return RestyleError(row.error_message or f"The task '{row.id}' failed.", code=code, status=status)


async def submit(services: Services, account: AccountRow, translated: Translated) -> TaskRow:
    """Submit ``translated`` as a task of ``account``; a refused input names the wire field."""
    try:
        row, _ = await asyncio.to_thread(services.tasks.submit, account, translated.submission)
    except RestyleError as error:
        raise translated.renamed(error) from None
    return row


async def generate(services: Services, account: AccountRow, translated: Translated) -> Generated:
    """Run ``translated`` as a task of ``account`` and wait for it: the result, or the task's error
    (DeadlineExceeded when it is still running at the deadline; it keeps running)."""
    started = time.monotonic()
    row = await submit(services, account, translated)
    deadline = services.settings.server.max_wait_seconds
    row = await services.tasks.wait(row.id, account.id, deadline)
    if row.status in ("FAILED", "CANCELED"):
        raise task_error(row)
    if row.status != "SUCCEEDED" or not row.result_keys:
        raise DeadlineExceeded(
            f"The task '{row.id}' did not finish within {deadline:g} seconds (server.max_wait_seconds)."
        )
    image = await asyncio.to_thread(services.storage.get, row.result_keys[0])
    return Generated(row, image, time.monotonic() - started)


def model_response(generated: Generated, req_key: str, no_images: list[str] | None = None) -> dict[str, Any]:
    """The model API's success body; the image itself is stored by the caller, so it carries none:
    its image lists are ``no_images`` (veImageX's seed shows ``[]``, the TOS seed ``null``)."""
    return {
        "code": SUCCESS,
        "data": {
            "algorithm_base_resp": ALGORITHM_OK,
            "binary_data_base64": no_images,
            "image_urls": no_images,
            "req_key": req_key,
            "task_id": generated.row.id,
        },
        "message": "Success",
        "request_id": uuid.uuid4().hex,
        "status": SUCCESS,
        "time_elapsed": f"{generated.seconds:.6f}s",
    }
