"""Every error path of the native API answers its JSON error with the right status and code."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.api.conftest import App, Caller, multipart


def assert_error(response: Any, status: int, code: str, text: str, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"} and body["request_id"] == response.headers["X-Request-Id"]
    assert body["error"]["code"] == code
    assert text in body["error"]["message"], body["error"]["message"]
    assert body["error"].get("param") == param


@pytest.fixture(scope="module")
def caller(live: App) -> Caller:
    return live.caller(qps=1000)


@pytest.mark.parametrize(
    ("fields", "status", "code", "text", "param"),
    [
        ({"style": "vaporwave"}, 400, "style.unknown", "unknown value 'vaporwave'", "style"),
        ({"style": "99"}, 400, "style.unknown", "index 99 is not a preset", "style"),
        ({"strength": "1.5"}, 400, "param.out_of_range", "between 0 and 1", "strength"),
        ({"hd": "0.25"}, 400, "param.out_of_range", "multiple of 0.1", "hd"),
        ({"seed": "abc"}, 400, "param.invalid", "must be an integer", "seed"),
        ({"face_switch": "maybe"}, 400, "param.invalid", "true or false", "face_switch"),
        ({"colour": "red"}, 400, "param.invalid", "Parameter 'colour' is not known", "colour"),
        ({"wait": "61"}, 400, "param.out_of_range", "between 0 and 60 seconds", "wait"),
        ({"wait": "soon"}, 400, "param.invalid", "number of seconds", "wait"),
        ({"callback_url": "ftp://x"}, 400, "url.invalid", "http:// or https://", "callback_url"),
        ({"callback_url": "http://10.0.0.1/hook"}, 400, "url.forbidden", "a private address", "callback_url"),
    ],
)
def test_bad_parameters(
    live: App,
    caller: Caller,
    astronaut_png: bytes,
    fields: dict[str, str],
    status: int,
    code: str,
    text: str,
    param: str,
) -> None:
    response = live.client.post("/v1/tasks", headers=caller.headers, **multipart(astronaut_png, **fields))
    assert_error(response, status, code, text, param)


@pytest.mark.parametrize(
    ("kwargs", "status", "code", "text", "param"),
    [
        ({"data": {"style": "anime"}}, 400, "param.invalid", "Parameter 'image' is required", "image"),
        ({"files": {"image": ("x.png", b"", "image/png")}}, 400, "image.empty", "is empty", "image"),
        (
            {"files": {"image": ("x.png", b"not an image", "image/png")}},
            400,
            "image.invalid",
            "not a readable image",
            "image",
        ),
        (
            {"files": {"photo": ("x.png", b"x", "image/png")}},
            400,
            "param.invalid",
            "File field 'photo' is not known",
            "photo",
        ),
        (
            {"data": {"image": "https://127.0.0.1/a.png"}},
            400,
            "url.forbidden",
            "a loopback address",
            "image",
        ),
        (
            {"data": {"image": "%%%"}},
            400,
            "param.invalid",
            "not valid base64: character 1 of 3 is '%'",
            "image",
        ),
        (
            {"json": {"image": {"url": "http://127.0.0.1/x.png"}}},
            400,
            "url.forbidden",
            "a loopback address",
            "image",
        ),
        (
            {"json": {"image": {"url": "ftp://photos.example/x.png"}}},
            400,
            "url.invalid",
            "http:// or https://",
            "image",
        ),
        ({"json": {"image": {"bytes": "x"}}}, 400, "param.invalid", '{"base64": "..."}', "image"),
        ({"json": ["not", "an", "object"]}, 400, "request.invalid_json", "JSON object", None),
        (
            {"content": b"{oops", "headers": {"Content-Type": "application/json"}},
            400,
            "request.invalid_json",
            "not valid JSON",
            None,
        ),
        (
            {"content": b"x", "headers": {"Content-Type": "text/plain"}},
            415,
            "request.content_type",
            "multipart/form-data",
            None,
        ),
    ],
)
def test_bad_inputs(
    live: App, caller: Caller, kwargs: dict[str, Any], status: int, code: str, text: str, param: str
) -> None:
    headers = {**caller.headers, **kwargs.pop("headers", {})}
    response = live.client.post("/v1/tasks", headers=headers, **kwargs)
    assert_error(response, status, code, text, param)


def test_too_large_bodies_and_images(live: App, caller: Caller, astronaut_png: bytes) -> None:
    limit = live.services.settings.server.max_request_bytes
    headers = {**caller.headers, "Content-Type": "application/json", "Content-Length": str(limit + 1)}
    response = live.client.post("/v1/tasks", headers=headers, content=b"{}")
    assert_error(response, 413, "request.too_large", f"the limit is {limit} bytes", None)
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (live.services.settings.images.max_bytes + 1)
    body = {"image": base64.b64encode(huge).decode()}
    assert_error(
        live.client.post("/v1/tasks", headers=caller.headers, json=body),
        413,
        "image.too_large",
        "bytes",
        "image",
    )


def test_authentication_errors(live: App, astronaut_png: bytes) -> None:
    for headers in ({}, {"Authorization": "Bearer rsk_nope_nope"}, {"Authorization": "Basic abc"}):
        response = live.client.post("/v1/tasks", headers=headers, **multipart(astronaut_png))
        assert_error(response, 401, "auth.invalid", "API key", None)
    assert_error(live.client.get("/v1/tasks"), 401, "auth.invalid", "Bearer", None)


def test_missing_tasks_endpoints_and_methods(live: App, caller: Caller) -> None:
    for method, path in (
        ("GET", "/v1/tasks/nope"),
        ("POST", "/v1/tasks/nope/cancel"),
        ("DELETE", "/v1/tasks/nope"),
    ):
        response = live.client.request(method, path, headers=caller.headers)
        assert_error(response, 404, "task.not_found", "Task 'nope' does not exist", None)
    assert_error(
        live.client.get("/v1/tasks/nope/events", headers=caller.headers), 404, "task.not_found", "nope", None
    )
    assert_error(live.client.get("/v1/nothing"), 404, "endpoint.not_found", "/docs", None)
    assert_error(live.client.put("/v1/styles"), 405, "method.not_allowed", "method", None)
    assert_error(
        live.client.get("/v1/tasks?status=DONE", headers=caller.headers),
        400,
        "param.invalid",
        "PENDING",
        "status",
    )
    assert_error(
        live.client.get("/v1/tasks?cursor=zz", headers=caller.headers),
        400,
        "param.invalid",
        "cursor",
        "cursor",
    )
    assert_error(
        live.client.get("/v1/tasks?limit=0", headers=caller.headers), 400, "param.invalid", "limit", "limit"
    )


def test_file_links_must_be_signed_and_fresh(live: App) -> None:
    signer = live.services.signer
    key = "tasks/acc_x/t/output/1-0.png"
    expired = signer.url("http://testserver", key, now=0)
    assert_error(live.client.get(expired), 403, "url.expired", "expired", None)
    forged = signer.url("http://testserver", key).replace("signature=", "signature=0")
    assert_error(live.client.get(forged), 403, "url.invalid_signature", "not valid", None)
    assert_error(live.client.get(f"/v1/files/{key}"), 400, "param.invalid", "expires", "expires")
    assert_error(
        live.client.get(signer.url("http://testserver", key)), 404, "file.not_found", "does not exist", None
    )


def test_the_request_id_is_echoed(live: App) -> None:
    response = live.client.get("/v1/tasks", headers={"X-Request-Id": "my-trace-1"})
    assert response.headers["X-Request-Id"] == "my-trace-1" and response.json()["request_id"] == "my-trace-1"


@pytest.mark.parametrize(
    ("body", "code", "text", "param"),
    [
        ({"style": True}, "param.invalid", "preset name or index", "style"),
        ({"style": "²"}, "style.unknown", "unknown value", "style"),
        ({"style": [2]}, "param.invalid", "preset name or index", "style"),
        ({"seed": 10**400}, "param.out_of_range", "between -1 and 4294967295", "seed"),
        ({"strength": "1e999"}, "param.invalid", "finite number", "strength"),
        ({"prompt": {"a": 1}}, "param.invalid", "must be a string", "prompt"),
        ({"mode": 3}, "param.invalid", "must be one of", "mode"),
        ({"face_switch": [True]}, "param.invalid", "true or false", "face_switch"),
        ({"wait": True}, "param.invalid", "number of seconds", "wait"),
        ({"wait": "nan"}, "param.out_of_range", "between 0 and 60", "wait"),
        ({"callback_url": False}, "param.invalid", "URL string", "callback_url"),
    ],
)
def test_wrong_json_types_are_named_errors(
    live: App, caller: Caller, astronaut_png: bytes, body: dict[str, Any], code: str, text: str, param: str
) -> None:
    payload = {"image": {"base64": base64.b64encode(astronaut_png).decode()}, **body}
    response = live.client.post("/v1/tasks", headers=caller.headers, json=payload)
    assert_error(response, 400, code, text, param)


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, b'{"seed": 1' + b"0" * 5000 + b"}", b'{"image": "\xff"}'],
    ids=["deep", "5000-digits", "bad-utf8"],
)
def test_hostile_json_is_a_400(live: App, caller: Caller, content: bytes) -> None:
    headers = {**caller.headers, "Content-Type": "application/json"}
    response = live.client.post("/v1/tasks", headers=headers, content=content)
    assert_error(response, 400, "request.invalid_json", "not valid JSON", None)


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(live: App, caller: Caller) -> None:
    limit = live.services.settings.server.max_request_bytes
    sent = [0]

    def chunks() -> Any:
        piece = b" " * (1 << 20)
        while sent[0] < 3 * limit:  # far more than the limit: the server must stop reading early
            sent[0] += len(piece)
            yield piece

    headers = {**caller.headers, "Content-Type": "application/json"}
    response = live.client.post("/v1/tasks", headers=headers, content=chunks())
    assert_error(response, 413, "request.too_large", f"the limit is {limit} bytes", None)
    assert "content-length" not in response.request.headers


def test_unknown_query_parameters_and_cursors_are_refused(live: App, caller: Caller, astronaut_png: bytes) -> None:
    response = live.client.post("/v1/tasks?style=bogus", headers=caller.headers, **multipart(astronaut_png))
    assert_error(response, 400, "param.invalid", "Query parameter 'style' is not known", "style")
    response = live.client.get("/v1/tasks?statuss=PENDING", headers=caller.headers)
    assert_error(response, 400, "param.invalid", "takes: cursor, limit, status", "statuss")
    naive = base64.urlsafe_b64encode(b"2026-01-01T00:00:00|x").decode()
    response = live.client.get(f"/v1/tasks?cursor={naive}", headers=caller.headers)
    assert_error(response, 400, "param.invalid", "not a cursor", "cursor")


def test_more_than_two_files_is_a_clear_error(live: App, caller: Caller, astronaut_png: bytes) -> None:
    files = [("image", ("a.png", astronaut_png, "image/png"))] * 3
    response = live.client.post("/v1/tasks", headers=caller.headers, files=files)
    assert_error(response, 400, "request.invalid_form", "at most the two files", None)
