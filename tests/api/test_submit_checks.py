"""The submit-time photo check decodes a JPEG at 1/8 scale (the hot path) and still refuses what the
full decode refuses: a truncated file, a header that declares too many pixels, a file that is not an
image; a good JPEG is accepted, and its position in the queue is answered with it."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.api.conftest import App


def _jpeg(side: int = 320) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)  # noise: every block carries data
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _declaring(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0) claiming another size."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 9 :]


def _submit(idle: App, headers: dict[str, str], data: bytes) -> tuple[int, dict[str, object]]:
    response = idle.client.post(
        "/v1/tasks",
        headers={**headers, "Prefer": "respond-async"},
        files={"image": ("photo.jpg", data, "image/jpeg")},
        data={"style": "sketch"},
    )
    return response.status_code, response.json()


def test_a_good_jpeg_is_accepted_with_its_queue_position(idle: App) -> None:
    caller = idle.caller()
    status, first = _submit(idle, caller.headers, _jpeg())
    assert status == 202 and first["status"] == "PENDING" and first["queue_position"] == 0
    status, second = _submit(idle, caller.headers, _jpeg())
    assert status == 202 and second["queue_position"] == 1
    polled = idle.client.get(f"/v1/tasks/{second['id']}", headers=caller.headers).json()
    assert polled == second


def test_a_truncated_jpeg_is_refused_at_submit(idle: App) -> None:
    caller = idle.caller()
    whole = _jpeg()
    status, body = _submit(idle, caller.headers, whole[: len(whole) * 2 // 3])
    assert status == 400 and body["error"]["code"] == "image.truncated", body  # type: ignore[index]


def test_a_jpeg_declaring_too_many_pixels_is_refused_before_decoding(idle: App) -> None:
    caller = idle.caller()
    status, body = _submit(idle, caller.headers, _declaring(_jpeg(), 8000, 8000))
    assert status == 413 and body["error"]["code"] == "image.too_many_pixels", body  # type: ignore[index]
    status, body = _submit(idle, caller.headers, b"\xff\xd8\xff\xe0 not really a jpeg")
    assert status == 400 and body["error"]["code"] == "image.invalid", body  # type: ignore[index]
