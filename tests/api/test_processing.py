"""Processing actions over HTTP: ``GET /v1/files/{key}?x-process=`` / ``?x-template=`` (cached beside the
file, removed with it) and ``POST /v1/process``."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image

from restyle.imaging.actions import parse_actions
from restyle.imaging.derived import MAX_COPIES, derived_key, derived_prefix
from restyle.labels.containers import extract_xmp
from restyle.labels.implicit import parse_xmp
from tests.api.conftest import App, multipart


def _jpeg(width: int = 400, height: int = 300) -> bytes:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = (200, 30, 30)
    pixels[height // 2 :, width // 2 :] = (30, 30, 200)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _link(app: App, key: str, **query: str) -> str:
    url = app.services.signer.url("", key)
    extra = "".join(f"&{name}={quote(value, safe='')}" for name, value in query.items())
    return url + extra


@pytest.fixture
def stored(idle: App) -> str:
    key = "tasks/acc_test/task_1/output/1-0.jpg"
    idle.services.storage.put(key, _jpeg())
    return key


def test_x_process_resizes_and_caches_beside_the_file(idle: App, stored: str) -> None:
    first = idle.client.get(_link(idle, stored, **{"x-process": "image/resize,w_100/format,png"}))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png"
    assert first.headers["x-restyle-cache"] == "miss"
    assert Image.open(io.BytesIO(first.content)).size == (100, 75)
    cache = derived_key(stored, parse_actions("image/resize,w_100/format,png"))
    assert cache.startswith(derived_prefix(stored) + "/") and idle.services.storage.exists(cache)
    again = idle.client.get(_link(idle, stored, **{"x-process": "resize,w_100/format,png"}))  # same chain
    assert again.headers["x-restyle-cache"] == "hit" and again.content == first.content


def test_x_template_uses_a_named_template(idle: App, stored: str) -> None:
    response = idle.client.get(_link(idle, stored, **{"x-template": "thumbnail"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)


@pytest.mark.parametrize(
    ("query", "status", "code", "param"),
    [
        ({"x-process": "image/spin,90"}, 400, "action.unknown", None),
        ({"x-process": "image/rotate,400"}, 400, "action.out_of_range", None),
        ({"x-template": "nope"}, 404, "template.unknown", None),
        ({"x-process": "image/rotate,90", "x-template": "thumbnail"}, 400, "param.invalid", "x-template"),
        ({"x-process": "image/resize,w_16384,h_16384,m_fixed,limit_0"}, 413, "action.too_large", None),
    ],
)
def test_bad_processing_queries_are_clear_errors(
    idle: App, stored: str, query: dict[str, str], status: int, code: str, param: str | None
) -> None:
    response = idle.client.get(_link(idle, stored, **query))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if param:
        assert error["param"] == param
    assert not idle.services.storage.exists(f"{derived_prefix(stored)}")


def test_processing_needs_a_valid_signature(idle: App, stored: str) -> None:
    url = _link(idle, stored, **{"x-process": "image/rotate,90"}).replace("signature=", "signature=0")
    assert idle.client.get(url).status_code == 403


def test_a_link_cannot_watermark_with_other_files(idle: App, stored: str) -> None:
    """A link opens one file: an image watermark would read another (another task's uploaded photo)."""
    other = "tasks/acc_test/task_2/input/image"
    small = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 255, 0)).save(small, "PNG")
    idle.services.storage.put(other, small.getvalue())
    for name in (other, "task_2/input/image", "../task_2/input/image"):
        encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        query = {"x-process": f"image/watermark,image_{encoded},g_se,t_100/format,png"}
        response = idle.client.get(_link(idle, stored, **query))
        assert response.status_code == 400, name
        assert response.json()["error"]["code"].startswith("action."), response.text
    text = base64.urlsafe_b64encode(b"restyle").decode().rstrip("=")
    assert idle.client.get(_link(idle, stored, **{"x-process": f"image/watermark,text_{text}"})).status_code == 200


def test_deleting_a_task_removes_its_processed_copies(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    task = live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, style="sketch")).json()
    assert task["status"] == "SUCCEEDED"
    url = task["result"]["images"][0]["url"]
    key = task["result"]["images"][0]["key"]
    processed = live.client.get(url + "&x-process=image/resize,w_64/format,jpg")
    assert processed.status_code == 200 and processed.headers["content-type"] == "image/jpeg"
    label = parse_xmp(extract_xmp(processed.content) or b"")  # the AI-content label stays on the copy
    assert label is not None and label["ProduceID"] == task["id"]
    assert live.client.get(url + "&x-process=image/resize,w_64/format,jpg").headers["x-restyle-cache"] == "hit"
    assert live.client.delete(f"/v1/tasks/{task['id']}", headers=caller.headers).status_code == 204
    assert not live.services.storage.exists(derived_key(key, parse_actions("image/resize,w_64/format,jpg")))


def test_post_process_runs_actions_on_an_upload(idle: App) -> None:
    caller = idle.caller()
    response = idle.client.post(
        "/v1/process",
        headers=caller.headers,
        files={"image": ("a.jpg", _jpeg(), "image/jpeg")},
        data={"actions": "image/rotate,90/format,webp"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert (response.headers["x-image-width"], response.headers["x-image-height"]) == ("300", "400")
    assert Image.open(io.BytesIO(response.content)).size == (300, 400)


def test_post_process_info_and_template_and_json_body(idle: App) -> None:
    caller = idle.caller()
    body = {"image": {"base64": base64.b64encode(_jpeg()).decode()}, "actions": "image/info"}
    info = idle.client.post("/v1/process", headers=caller.headers, json=body)
    assert info.status_code == 200 and info.headers["content-type"].startswith("application/json")
    assert json.loads(info.content)["width"] == 400
    templated = idle.client.post(
        "/v1/process", headers=caller.headers, files={"image": ("a.jpg", _jpeg(800, 600), "image/jpeg")},
        data={"template": "avatar"},
    )
    assert templated.status_code == 200 and Image.open(io.BytesIO(templated.content)).size == (400, 400)


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({}, "param.invalid", "actions"),
        ({"actions": "image/rotate,90", "colour": "red"}, "param.invalid", "colour"),
        ({"actions": "image/resize,w_0"}, "action.out_of_range", None),
    ],
)
def test_post_process_refuses_bad_requests(idle: App, data: dict[str, str], code: str, param: str | None) -> None:
    caller = idle.caller()
    response = idle.client.post(
        "/v1/process", headers=caller.headers, files={"image": ("a.jpg", _jpeg(), "image/jpeg")}, data=data
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code
    if param:
        assert response.json()["error"]["param"] == param


def test_post_process_needs_a_key_and_a_real_image(idle: App) -> None:
    files = {"image": ("a.jpg", b"not an image", "image/jpeg")}
    assert idle.client.post("/v1/process", files=files, data={"actions": "image/rotate,90"}).status_code == 401
    caller = idle.caller()
    response = idle.client.post("/v1/process", headers=caller.headers, files=files, data={"actions": "image/rotate,90"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "image.invalid"


def test_a_link_keeps_a_bounded_number_of_processed_copies(idle: App, stored: str) -> None:
    for width in range(10, 10 + MAX_COPIES + 4):
        response = idle.client.get(_link(idle, stored, **{"x-process": f"image/resize,w_{width}"}))
        assert response.status_code == 200
    assert len(idle.services.storage.list_prefix(derived_prefix(stored))) == MAX_COPIES
    again = idle.client.get(_link(idle, stored, **{"x-process": f"image/resize,w_{10 + MAX_COPIES + 1}"}))
    assert again.headers["x-restyle-cache"] == "miss"  # processed, not kept
