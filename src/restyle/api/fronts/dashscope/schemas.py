"""Wire shapes of wanx-style-repaint-v1 (seed [004]): the submit body as it arrives, and a task as
DashScope shows it (``output.task_status``, times as ``YYYY-MM-DD HH:MM:SS.mmm``, ``results``,
``usage.image_count``). Bodies the SDKs parse never carry a top-level ``code`` unless refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from restyle.errors import InvalidParameter
from restyle.tasks.models import TaskRow

MODEL = "wanx-style-repaint-v1"
CUSTOM_STYLE = -1  # the style comes from input.style_ref_url
STYLE_INDEXES = range(0, 10)  # [004] 0 复古漫画 .. 9 喜迎新年
UNKNOWN = "UNKNOWN"


class RepaintInput(BaseModel):
    """``input``: the photo's URL, a style index, and the style image's URL for index -1."""

    model_config = ConfigDict(extra="forbid", strict=True)

    image_url: str = Field(description="http(s) URL of a JPEG, PNG, BMP or WebP photo (<= 10 MB).")
    style_index: int = Field(description="0..9 for a preset, -1 for the style of input.style_ref_url.")
    style_ref_url: str | None = Field(
        default=None, description="http(s) URL of a style image (style_index -1)."
    )


class RepaintRequest(BaseModel):
    """A submit body. ``parameters`` is ``{}`` from the 1.x client and absent from the 2.x one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str
    input: RepaintInput
    parameters: dict[str, Any] = Field(default_factory=dict)


# OpenAPI: the submit body is read by hand (to answer in DashScope's error format), so it is declared here.
SUBMIT_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["model", "input"],
                    "properties": {
                        "model": {"type": "string", "enum": [MODEL]},
                        "input": {
                            "type": "object",
                            "required": ["image_url", "style_index"],
                            "properties": {
                                "image_url": {"type": "string", "example": "https://example.com/me.jpg"},
                                "style_index": {"type": "integer", "minimum": -1, "maximum": 9, "example": 3},
                                "style_ref_url": {
                                    "type": "string",
                                    "description": "With style_index -1 only.",
                                },
                            },
                            "additionalProperties": False,
                        },
                        "parameters": {"type": "object", "maxProperties": 0},
                    },
                }
            }
        },
    }
}
SUBMIT_EXAMPLE = {
    "output": {"task_id": "13b1848b-5493-4c0e-8c44-68d038b492af", "task_status": "PENDING"},
    "request_id": "7574ee8f38a34b1e928011c33ab46e51",
}
ERROR_EXAMPLE = {
    "request_id": "fb53c4ec1c124fc4a580cdb7c3261fc1",
    "code": "InvalidApiKey",
    "message": "The API key is not valid; send 'Authorization: Bearer <api key>'.",
}


def parse_request(raw: bytes) -> RepaintRequest:
    """The submit body, or InvalidParameter naming the first field at fault."""
    try:
        request = RepaintRequest.model_validate_json(raw or b"null")
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise InvalidParameter(
                'The request body is not valid JSON; send {"model": ..., "input": {...}}.',
                code="request.invalid_json",
            ) from None
        where = ".".join(str(part) for part in first["loc"]) or "body"
        message = str(first["msg"]).rstrip(".")
        if first["type"] == "model_type" and not first["loc"]:
            raise InvalidParameter(
                "The request body must be a JSON object with 'model' and 'input'."
            ) from None
        raise InvalidParameter(f"Parameter '{where}': {message}.", param=where) from None
    if request.parameters:
        name = sorted(request.parameters)[0]
        raise InvalidParameter(
            f"Parameter 'parameters.{name}' is not known; {MODEL} takes no parameters.",
            param=f"parameters.{name}",
        )
    return request


def format_time(moment: datetime | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS.mmm`` in UTC, as the SDKs expect."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def submit_body(row: TaskRow, request_id: str) -> dict[str, Any]:
    return {"output": {"task_id": row.id, "task_status": row.status}, "request_id": request_id}


def unknown_body(task_id: str, request_id: str) -> dict[str, Any]:
    """A missing, foreign or expired task: HTTP 200 with ``UNKNOWN``, which ``wait()`` stops on."""
    return {"request_id": request_id, "output": {"task_id": task_id, "task_status": UNKNOWN}}


def task_body(
    row: TaskRow,
    request_id: str,
    *,
    result_urls: list[str],
    style_index: int | None,
    failure: tuple[str, str] | None,
) -> dict[str, Any]:
    """The task as DashScope shows it; ``failure`` is the (vendor code, message) of a FAILED task."""
    succeeded, failed = row.status == "SUCCEEDED", row.status == "FAILED"
    output: dict[str, Any] = {"task_id": row.id, "task_status": row.status}
    times = {
        "submit_time": row.submitted_at,
        "scheduled_time": row.scheduled_at,
        "start_time": row.started_at,
        "end_time": row.finished_at,
    }
    output.update({name: format_time(moment) for name, moment in times.items() if moment is not None})
    output["task_metrics"] = {"TOTAL": 1, "SUCCEEDED": int(succeeded), "FAILED": int(failed)}
    if style_index is not None:
        output["style_index"] = style_index
    body: dict[str, Any] = {"request_id": request_id, "output": output}
    if succeeded:
        output["results"] = [{"url": url} for url in result_urls]
        output["error_code"], output["error_message"] = 0, "Success"  # as the seed's success sample
        body["usage"] = {"image_count": len(result_urls)}
    elif failed:
        code, message = failure or ("InternalServerError", "The task failed.")
        output["code"], output["message"] = code, message
        body["usage"] = {"image_count": 0}
    return body
