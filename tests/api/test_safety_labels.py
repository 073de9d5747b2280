"""Content checks and AI-content labels through the native API: refused prompts and images with their
codes, per-account safety switched by an admin, and every label on a finished task's file."""

from __future__ import annotations

import io
import json

from PIL import Image

from restyle.labels.inspect import inspect_bytes
from restyle.labels.invisible import watermark_id
from tests.api.conftest import App, multipart
from tests.safety.drawings import exposed_torso


def _png(pixels: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")  # type: ignore[arg-type]
    return buffer.getvalue()


def test_a_blocked_prompt_is_refused_at_submit(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    response = live.client.post(
        "/v1/tasks", headers=caller.headers, **multipart(astronaut_png, prompt="anime p.o.r.n style")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "safety.input_text" and error["param"] == "prompt"
    assert "porn" not in error["message"].lower()  # the matched term is never echoed
    ip = live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, prompt="Mickey Mouse"))
    assert ip.status_code == 422 and ip.json()["error"]["code"] == "safety.input_text_ip"


def test_an_unsafe_photo_fails_its_task_and_an_account_without_checks_runs_it(live: App) -> None:
    caller = live.caller()
    unsafe = _png(exposed_torso())
    task = live.client.post(
        "/v1/tasks", headers=caller.headers, **multipart(unsafe, style="sketch", allow_no_face="true")
    ).json()
    assert task["status"] == "FAILED", task
    assert task["error"]["code"] == "safety.input_image"
    admin = live.caller(is_admin=True)
    patched = live.client.patch(
        f"/v1/accounts/{caller.account.id}", headers=admin.headers, json={"safety": False}
    )
    assert patched.status_code == 200 and patched.json()["safety"] is False
    again = live.client.post(
        "/v1/tasks", headers=caller.headers, **multipart(unsafe, style="sketch", allow_no_face="true")
    ).json()
    assert again["status"] == "SUCCEEDED", again


def test_admin_safety_options_are_validated(live: App) -> None:
    admin = live.caller(is_admin=True)
    bad = live.client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "s-bad", "safety": {"image_classes": {"NOPE": 0.5}}}
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "safety"
    good = live.client.post(
        "/v1/accounts", headers=admin.headers, json={"name": "s-good", "safety": {"text": False}}
    )
    assert good.status_code == 201 and good.json()["account"]["safety"] == {"text": False}


def test_every_label_is_on_the_result(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    logo = {"add_logo": True, "position": 1, "language": 1, "opacity": 0.8}
    task = live.client.post(
        "/v1/tasks", headers=caller.headers, **multipart(astronaut_png, style="sketch", logo_info=json.dumps(logo))
    ).json()
    assert task["status"] == "SUCCEEDED", task
    data = live.client.get(task["result"]["images"][0]["url"]).content
    report = inspect_bytes(data, task_id=task["id"])
    assert report.visible is not None and report.visible.position == 1 and report.visible.language == 1
    assert report.metadata is not None and report.metadata["ProduceID"] == task["id"]
    assert report.metadata["Label"] == "1"
    assert report.watermark.payload == watermark_id(task["id"])
    assert not report.c2pa.present


def test_labels_can_be_switched_off_and_bad_label_requests_are_refused(live: App, astronaut_png: bytes) -> None:
    caller = live.caller()
    task = live.client.post(
        "/v1/tasks",
        headers=caller.headers,
        **multipart(astronaut_png, style="sketch", label_metadata="false", label_invisible="false"),
    ).json()
    report = inspect_bytes(live.client.get(task["result"]["images"][0]["url"]).content)
    assert report.metadata is None and report.watermark.payload is None and report.visible is None
    for fields, param in (
        ({"logo_info": json.dumps({"add_logo": True, "position": 7})}, "logo_info.position"),
        ({"logo_info": "not json"}, "logo_info"),
        ({"logo_info": json.dumps({"add_logo": True, "size": 3})}, "logo_info"),
        ({"label_c2pa": "true"}, "label_c2pa"),
    ):
        response = live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, **fields))
        assert response.status_code == 400, (fields, response.text)
        assert response.json()["error"]["param"] == param


def test_per_account_safety_takes_no_code_or_file_paths(live: App) -> None:
    admin = live.caller(is_admin=True)
    for value in ({"image_checker": "os:getcwd"}, {"general_blocklists": ["/etc/passwd"]}):
        response = live.client.post("/v1/accounts", headers=admin.headers, json={"name": "s-x", "safety": value})
        assert response.status_code == 400, value
        assert response.json()["error"]["param"] == "safety"
