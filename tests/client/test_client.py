"""``Client`` against a real ``restyle serve`` on loopback: every method, every input kind, the errors."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.client import (
    ApiError,
    AuthenticationError,
    Client,
    NotFound,
    Progress,
    RateLimited,
    TaskFailed,
    WaitTimeout,
)
from tests.client.conftest import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live: LiveServer) -> Client:
    with Client(live.url, live.keys["main"]) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def paused(live: LiveServer) -> Client:
    """An account whose tasks stay PENDING (concurrency 0)."""
    with Client(live.url, live.keys["paused"]) as client:
        yield client  # type: ignore[misc]


def test_restyle_a_path_saves_the_result_and_reports_progress(
    client: Client, portrait_file: Path, tmp_path: Path
) -> None:
    reports: list[Progress] = []
    result = client.restyle(portrait_file, style="sketch", seed=7, progress=reports.append)
    assert result.task["status"] == "SUCCEEDED" and result.style == "sketch" and result.seed == 7
    assert result.identity_distance is not None and 0 <= result.identity_distance < 0.6
    saved = result.save(tmp_path / "me_sketch.png")
    assert saved.read_bytes() == result.data and Image.open(saved).size == (256, 256)
    assert result.image.size == (256, 256) and result.format == "png"
    steps = [r.step for r in reports if r.status == "RUNNING"]
    assert {"detect", "engine", "encode"} <= set(steps), steps
    assert steps.index("detect") < steps.index("engine") < steps.index("encode")
    assert all(r.task_id == result.id for r in reports)
    fractions = [r.progress for r in reports if r.step != "decode"]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1


def test_every_input_kind_gives_the_same_picture(
    client: Client, live: LiveServer, portrait: np.ndarray, portrait_file: Path
) -> None:
    params = {"style": "sketch", "seed": 11}
    from_path = client.restyle(portrait_file, **params)
    from_bytes = client.restyle(portrait_file.read_bytes(), **params)
    from_array = client.restyle(portrait, **params)
    from_pil = client.restyle(Image.fromarray(portrait), **params)
    pixels = [np.asarray(r.image, np.int16) for r in (from_path, from_bytes, from_array, from_pil)]
    # same input, same seed: the same picture (the labels carry each task's id, so not the same bytes)
    assert all(np.abs(p - pixels[0]).mean() < 1.0 for p in pixels[1:])
    # a URL goes to the server as a URL: here the signed link of the server's own file of that input
    uploaded = client.get(from_path.id)["result"]["images"][0]["url"]
    from_url = client.restyle(uploaded, style="sketch", seed=11)
    assert from_url.task["status"] == "SUCCEEDED" and from_url.image.size == (256, 256)
    # a style image of any kind, too
    styled = client.restyle(portrait, style_image=np.full((64, 64, 3), (30, 90, 200), np.uint8), seed=11)
    assert np.abs(np.asarray(styled.image, np.int16) - pixels[0]).mean() > 1.0


def test_submit_get_wait_list_and_styles(client: Client, portrait: np.ndarray) -> None:
    task = client.submit(portrait, "sketch", seed=3)
    assert task["status"] in ("PENDING", "RUNNING", "SUCCEEDED") and task["parameters"]["seed"] == 3
    done = client.wait(task["id"], timeout=120)
    assert done["status"] == "SUCCEEDED" and client.get(task["id"])["id"] == task["id"]
    assert client.result(task["id"]).image.size == (256, 256)
    waited = client.submit(portrait, "sketch", wait=30)  # the server waits for the result
    assert waited["status"] == "SUCCEEDED"
    first = client.list(limit=1)
    assert len(first.data) == 1 and first.has_more and first.next_cursor
    second = client.list(limit=1, cursor=first.next_cursor)
    assert second.data[0]["id"] != first.data[0]["id"]
    every = [t["id"] for t in client.iter_tasks(page_size=2)]
    assert {task["id"], waited["id"]} <= set(every) and len(every) == len(set(every))
    assert all(t["status"] == "SUCCEEDED" for t in client.list("SUCCEEDED", limit=100).data)
    styles = client.styles()
    assert {"anime", "sketch"} <= {s["name"] for s in styles}
    assert Client(client.core.base_url, api_key=None).styles() == styles  # public: no key needed
    assert client.account()["concurrency"] == 2


def test_cancel_delete_and_wait_timeout(paused: Client, portrait: np.ndarray) -> None:
    task = paused.submit(portrait, "sketch")
    assert task["status"] == "PENDING" and task["queue_position"] is not None
    with pytest.raises(WaitTimeout) as late:
        paused.wait(task["id"], timeout=0.5)
    assert task["id"] in late.value.message
    canceled = paused.cancel(task["id"])
    assert canceled["status"] == "CANCELED"
    with pytest.raises(TaskFailed) as failed:
        paused.wait(task["id"], timeout=10)
    assert failed.value.task_status == "CANCELED" and failed.value.task["id"] == task["id"]
    with pytest.raises(ApiError) as final:
        paused.cancel(task["id"])
    assert (final.value.status, final.value.code) == (409, "task.final")
    paused.delete(task["id"])
    with pytest.raises(NotFound) as gone:
        paused.get(task["id"])
    assert (gone.value.status, gone.value.code) == (404, "task.not_found")


def test_deleting_a_task_while_it_is_watched_ends_the_wait(paused: Client, portrait: np.ndarray) -> None:
    import threading

    task = paused.submit(portrait, "sketch")
    threading.Timer(1.0, paused.delete, args=(task["id"],)).start()
    with pytest.raises(NotFound) as gone:
        paused.wait(task["id"], timeout=30)
    assert gone.value.code == "task.not_found"


def test_errors_carry_the_api_code_message_and_param(
    live: LiveServer, client: Client, portrait: np.ndarray, faceless_png: bytes
) -> None:
    with Client(live.url, "rsk_not_a_key") as stranger, pytest.raises(AuthenticationError) as denied:
        stranger.submit(portrait, "sketch")
    assert (denied.value.status, denied.value.code) == (401, "auth.invalid") and denied.value.request_id
    with pytest.raises(ApiError) as unknown:
        client.restyle(portrait, "sketch", sharpness=3)
    assert (unknown.value.status, unknown.value.code, unknown.value.param) == (400, "param.invalid", "sharpness")
    with pytest.raises(ApiError) as out_of_range:
        client.restyle(portrait, "sketch", hd=1.7)
    assert out_of_range.value.param == "hd" and "hd" in str(out_of_range.value)
    with pytest.raises(ApiError) as style:
        client.submit(portrait, "vaporwave")
    assert (style.value.code, style.value.param) == ("style.unknown", "style")
    with pytest.raises(ApiError) as not_image:
        client.submit(b"not an image", "sketch")
    assert (not_image.value.code, not_image.value.param) == ("image.invalid", "image")
    with pytest.raises(NotFound):
        client.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(TaskFailed) as no_face:  # accepted, then FAILED in the worker
        client.restyle(faceless_png, "sketch")
    assert no_face.value.code == "face.not_found" and no_face.value.task["status"] == "FAILED"


def test_polling_when_events_are_off(live: LiveServer, portrait: np.ndarray) -> None:
    reports: list[Progress] = []
    with Client(live.url, live.keys["main"], events=False) as polling:
        result = polling.restyle(portrait, "sketch", seed=5, progress=reports.append)
    assert result.image.size == (256, 256) and reports
    assert all(r.task_id == result.id and r.status in ("PENDING", "RUNNING") for r in reports)


def test_over_the_rate_limit_the_client_waits_and_retries_without_duplicates(
    live: LiveServer, portrait: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    with Client(live.url, live.keys["slow"], max_retries=0) as impatient:
        impatient.submit(portrait, "sketch")
        with pytest.raises(RateLimited) as limited:  # 0.5 submits per second: the second is refused
            impatient.submit(portrait, "sketch")
    assert limited.value.status == 429 and limited.value.code == "limit.rate"
    assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    with caplog.at_level(logging.INFO, logger="restyle.client"), Client(live.url, live.keys["slow"]) as patient:
        ids = [patient.submit(portrait, "sketch")["id"] for _ in range(2)]
        assert any("answered 429" in r.getMessage() for r in caplog.records), caplog.text
        listed = [t["id"] for t in patient.iter_tasks()]
        assert set(ids) <= set(listed) and len(listed) == 3  # one task per submit, none twice
        # the same Idempotency-Key returns the first task (as a retried submit does)
        again = patient.submit(portrait, "sketch", idempotency_key="same-photo-1")
        assert patient.submit(portrait, "sketch", idempotency_key="same-photo-1")["id"] == again["id"]
        for task_id in [*listed, again["id"]]:
            patient.wait(task_id, timeout=120)


def test_the_result_image_is_the_linked_file(client: Client, portrait: np.ndarray) -> None:
    result = client.restyle(portrait, "sketch", output_format="jpeg")
    assert result.format == "jpeg" and result.data[:2] == b"\xff\xd8"
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"


def test_an_http_client_of_your_own_is_used_and_left_open(live: LiveServer, portrait: np.ndarray) -> None:
    import httpx

    seen: list[str] = []
    own = httpx.Client(timeout=60, event_hooks={"request": [lambda request: seen.append(request.url.path)]})
    with Client(live.url, live.keys["main"], http_client=own) as client:
        assert client.restyle(portrait, "sketch").image.size == (256, 256)
    assert seen[0] == "/v1/tasks" and any(path.startswith("/v1/files/") for path in seen)
    assert not own.is_closed and own.get(f"{live.url}/healthz").status_code == 200
    own.close()
