"""The DashScope front driven by the real ``dashscope`` SDK (2.x in this environment; the 1.x SDK
through a subprocess when its venv exists) against a live ``restyle serve`` on 127.0.0.1, with
photos served by loopback HTTP servers. Calls as protocols/README.md section 2 shows them."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dashscope
import httpx
import numpy as np
import pytest
from dashscope.aigc.image_synthesis import ImageSynthesis
from dashscope.client.base_api import BaseApi, BaseAsyncApi
from dashscope.v2.client import Client
from dashscope.v2.errors import DashScopeError
from PIL import Image

from restyle.api.fronts.dashscope.errors import TABLE, failure_code, vendor_error
from restyle.api.fronts.dashscope.schemas import RepaintInput, RepaintRequest
from restyle.api.fronts.dashscope.translate import to_submission
from restyle.config import Settings
from restyle.errors import ImageSideTooLarge, ImageTooManyPixels, ImageTooSmall, RestyleError, UrlError
from restyle.pipeline import Pipeline
from restyle.tasks.db import utcnow
from restyle.tasks.models import TaskRow
from tests.fronts.conftest import Caller, LiveServer, Photos

MODEL = "wanx-style-repaint-v1"
ROUTE = {"task_group": "aigc", "task": "image-generation", "function": "generation"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
WAIT = 120  # seconds: a hung task fails the test instead of hanging it (wait() polls forever by default)
DASHSCOPE1_PYTHON = Path(os.environ.get("RESTYLE_TEST_DASHSCOPE1_PYTHON", "/tmp/dashscope1-venv/bin/python"))


@pytest.fixture(scope="module", autouse=True)
def sdk_base_url(live_server: LiveServer) -> Iterator[None]:
    """Point the SDK at restyle (host only; the key goes with each call)."""
    before = dashscope.base_http_api_url
    dashscope.base_http_api_url = f"{live_server.base_url}/api/v1"
    yield
    dashscope.base_http_api_url = before


def submit(caller: Caller | str, image_url: str, style_index: int = 3, **kwargs: Any) -> Any:
    api_key = caller if isinstance(caller, str) else caller.api_key
    inputs = {"image_url": image_url, "style_index": style_index, **kwargs.pop("extra_input", {})}
    model = kwargs.pop("model", MODEL)
    return BaseAsyncApi.async_call(model=model, input=inputs, api_key=api_key, **ROUTE, **kwargs)


def v2_client(live_server: LiveServer, caller: Caller) -> Client:
    return Client(api_key=caller.api_key, base_url=f"{live_server.base_url}/api/v1")


def bearer(caller: Caller) -> dict[str, str]:
    return {"Authorization": f"Bearer {caller.api_key}"}


def download(url: str) -> Image.Image:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_a_task_succeeds_with_a_png_of_the_wanx_size(live_server: LiveServer, photos: Photos) -> None:
    caller = live_server.caller()
    submitted = submit(caller, photos.url("face"), style_index=3)
    assert submitted.status_code == HTTPStatus.OK, submitted
    assert submitted.output["task_status"] == "PENDING" and submitted.request_id
    task_id = submitted.output["task_id"]

    done = BaseAsyncApi.wait(submitted, api_key=caller.api_key, wait_timeout=WAIT)
    assert done.status_code == HTTPStatus.OK and done.output["task_status"] == "SUCCEEDED", done
    output = done.output
    assert output["task_id"] == task_id and output["style_index"] == 3
    assert (output["error_code"], output["error_message"]) == (0, "Success")  # the seed's success sample
    for name in ("submit_time", "scheduled_time", "start_time", "end_time"):
        assert TIME.match(output[name]), (name, output[name])
    assert done.usage == {"image_count": 1} and len(output["results"]) == 1
    link = output["results"][0]["url"]
    image = download(link)
    assert image.format == "PNG" and image.size == (1536, 1536)  # a square photo: short side 1536
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])
    assert 23 * 3600 < expires - time.time() <= 24 * 3600  # the link lasts as long as the task: 24 h

    raw = httpx.get(f"{live_server.base_url}/api/v1/tasks/{task_id}", headers=bearer(caller)).json()
    assert set(raw) == {"request_id", "output", "usage"}  # no top-level code in a success body

    fetched = BaseAsyncApi.fetch(task_id, api_key=caller.api_key)
    assert fetched.output["task_status"] == "SUCCEEDED" and fetched.output["results"]
    job = v2_client(live_server, caller).images.jobs.wait(task_id, timeout=30)  # the 2.x typed client
    assert (
        job.status == "SUCCEEDED" and len(job.image_urls) == 1 and job.submitted_at == output["submit_time"]
    )


def test_style_index_minus_one_takes_the_style_of_style_ref_url(
    live_server: LiveServer, photos: Photos
) -> None:
    caller = live_server.caller()
    seen_before = len(photos.style.requests)
    submitted = submit(
        caller, photos.url("face"), style_index=-1, extra_input={"style_ref_url": photos.url("style")}
    )
    assert submitted.status_code == HTTPStatus.OK, submitted

    done = ImageSynthesis.wait(submitted.output["task_id"], api_key=caller.api_key, wait_timeout=WAIT)
    assert done.output.task_status == "SUCCEEDED", done
    assert done.output["style_index"] == -1
    assert len(photos.style.requests) > seen_before  # the worker fetched the style image
    assert download(done.output.results[0].url).size == (1536, 1536)


def test_a_photo_wider_than_1_5_to_1_is_cropped_to_2304_by_1536(
    live_server: LiveServer, photos: Photos
) -> None:
    caller = live_server.caller()
    submitted = submit(caller, photos.url("wide"), style_index=0)
    done = ImageSynthesis.wait(submitted.output["task_id"], api_key=caller.api_key, wait_timeout=WAIT)
    assert done.output.task_status == "SUCCEEDED", done
    assert download(done.output.results[0].url).size == (2304, 1536)


def test_a_too_small_photo_fails_the_task_with_invalid_image_resolution(
    live_server: LiveServer, photos: Photos
) -> None:
    caller = live_server.caller()
    submitted = submit(caller, photos.url("small"))
    assert submitted.status_code == HTTPStatus.OK, submitted  # the worker fetches and measures it
    done = BaseAsyncApi.wait(submitted, api_key=caller.api_key, wait_timeout=WAIT)
    output = done.output
    assert done.status_code == HTTPStatus.OK and output["task_status"] == "FAILED", done
    assert output["code"] == "InvalidImageResolution" and "256" in output["message"], output
    assert output["message"].startswith("The input image resolution is too large or small: "), output
    assert done.usage == {"image_count": 0} and "results" not in output
    assert TIME.match(output["end_time"])
    with pytest.raises(DashScopeError) as raised:  # the 2.x typed client raises on a FAILED task
        v2_client(live_server, caller).images.jobs.fetch(output["task_id"])
    assert raised.value.code == "InvalidImageResolution"


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("bad key", 401, "InvalidApiKey"),
        ("no async header", 403, "AccessDenied"),
        ("wrong model", 404, "ModelNotFound"),
        ("style_index 12", 400, "InvalidParameter"),
        ("style_index -1 without style_ref_url", 400, "InvalidParameter"),
        ("unknown input field", 400, "InvalidParameter"),
        ("a parameter", 400, "InvalidParameter"),
        ("forbidden address", 400, "InvalidURL"),
        ("not http", 400, "InvalidURL"),
    ],
)
def test_a_refused_submit_answers_in_dashscope_error_format(
    live_server: LiveServer, photos: Photos, case: str, status: int, code: str
) -> None:
    caller = live_server.caller()
    face = photos.url("face")
    if case == "bad key":
        response = submit("rs_not_a_key", face)
    elif case == "no async header":  # BaseApi.call is the SDK's synchronous call
        response = BaseApi.call(
            model=MODEL, input={"image_url": face, "style_index": 1}, api_key=caller.api_key, **ROUTE
        )
    elif case == "wrong model":
        response = submit(caller, face, model="wanx-v1")
    elif case == "style_index 12":
        response = submit(caller, face, style_index=12)
    elif case == "style_index -1 without style_ref_url":
        response = submit(caller, face, style_index=-1)
    elif case == "unknown input field":
        response = submit(caller, face, extra_input={"style_idx": 2})
    elif case == "a parameter":
        response = submit(caller, face, n=2)  # the SDK sends extra keyword arguments as parameters
    elif case == "forbidden address":
        response = submit(caller, "http://169.254.169.254/latest/meta-data/face.png")
    else:
        response = submit(caller, "data:image/png;base64,iVBORw0KGgo=")
    assert response.status_code == status and response.code == code, response
    assert response.message.endswith(".") and response.request_id, response
    if code == "InvalidURL":  # the seed's words lead, then which parameter and why
        assert response.message.startswith("The request URL is invalid, make sure the url is correct"), response


def test_unknown_and_foreign_tasks_are_unknown(live_server: LiveServer, photos: Photos) -> None:
    owner, stranger = live_server.caller(concurrency=0), live_server.caller()  # owner's task stays PENDING
    task_id = submit(owner, photos.url("face")).output["task_id"]

    for caller, wanted in ((owner, "PENDING"), (stranger, "UNKNOWN")):
        fetched = BaseAsyncApi.fetch(task_id, api_key=caller.api_key)
        assert fetched.status_code == HTTPStatus.OK and fetched.output["task_status"] == wanted, fetched
    missing = BaseAsyncApi.wait(
        str(uuid.uuid4()), api_key=stranger.api_key, wait_timeout=WAIT
    )  # wait() stops on UNKNOWN
    assert missing.status_code == HTTPStatus.OK and missing.output["task_status"] == "UNKNOWN", missing
    assert v2_client(live_server, stranger).images.jobs.fetch(task_id).status == "UNKNOWN"
    refused = BaseAsyncApi.fetch(task_id, api_key="rs_not_a_key")
    assert refused.status_code == 401 and refused.code == "InvalidApiKey"

    canceled = BaseAsyncApi.cancel(task_id, api_key=owner.api_key)
    assert canceled.status_code == HTTPStatus.OK, canceled
    assert BaseAsyncApi.fetch(task_id, api_key=owner.api_key).output["task_status"] == "CANCELED"
    again = BaseAsyncApi.cancel(task_id, api_key=owner.api_key)
    assert again.status_code == 400 and again.code == "UnsupportedOperation", again


def test_an_expired_task_is_unknown(live_server: LiveServer, photos: Photos) -> None:
    caller = live_server.caller(concurrency=0)
    task_id = submit(caller, photos.url("face")).output["task_id"]
    with live_server.db.write() as session:  # as if 24 h had passed and the sweeper had not run yet
        row = session.get(TaskRow, task_id)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    fetched = BaseAsyncApi.fetch(task_id, api_key=caller.api_key)
    assert fetched.status_code == HTTPStatus.OK and fetched.output["task_status"] == "UNKNOWN", fetched


def test_raw_requests_get_dashscope_errors_with_the_request_id(live_server: LiveServer) -> None:
    caller = live_server.caller()
    url = f"{live_server.base_url}/api/v1/services/aigc/image-generation/generation"
    headers = {**bearer(caller), "X-DashScope-Async": "enable", "Content-Type": "application/json"}
    for body in (b"{not json", b"[]", b'{"model": "wanx-style-repaint-v1"}'):
        response = httpx.post(url, headers=headers, content=body)
        answer = response.json()
        assert response.status_code == 400 and answer["code"] == "InvalidParameter", answer
        assert answer["request_id"] == response.headers["X-Request-Id"] and set(answer) == {
            "request_id",
            "code",
            "message",
        }
    missing_key = httpx.post(url, headers={"X-DashScope-Async": "enable"}, json={})
    assert missing_key.status_code == 401 and missing_key.json()["code"] == "InvalidApiKey"


def test_submits_over_the_account_qps_are_throttled(live_server: LiveServer, photos: Photos) -> None:
    caller = live_server.caller(qps=2, concurrency=0)
    answers = [submit(caller, photos.url("face")) for _ in range(6)]
    accepted = [answer for answer in answers if answer.status_code == HTTPStatus.OK]
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert answers[0].status_code == HTTPStatus.OK and answers[1].status_code == HTTPStatus.OK
    assert throttled and len(accepted) + len(throttled) == len(answers), answers
    for answer in throttled:
        headers = {name.lower(): value for name, value in answer.headers.items()}
        assert answer.code == "Throttling.RateQuota" and int(headers["retry-after"]) >= 1
    for answer in accepted:  # extra tasks of a busy account wait their turn
        assert BaseAsyncApi.cancel(answer, api_key=caller.api_key).status_code == HTTPStatus.OK


def test_a_repeated_submit_with_an_idempotency_key_returns_the_first_task(
    live_server: LiveServer, photos: Photos
) -> None:
    caller = live_server.caller(qps=2, concurrency=0)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = submit(caller, photos.url("face"), headers=dict(key), workspace="ws_restyle_test")
    for _ in range(3):  # a replay does not count against the rate either
        again = submit(caller, photos.url("face"), headers=dict(key))
        assert again.status_code == HTTPStatus.OK and again.output["task_id"] == first.output["task_id"], (
            again
        )
    changed = submit(caller, photos.url("face"), style_index=4, headers=dict(key))
    assert changed.status_code == 400 and changed.code == "InvalidParameter", changed
    bad_workspace = BaseAsyncApi.fetch(first, api_key=caller.api_key, workspace="not a workspace!")
    assert bad_workspace.status_code == 400 and bad_workspace.code == "InvalidParameter", bad_workspace
    assert BaseAsyncApi.cancel(first, api_key=caller.api_key).status_code == HTTPStatus.OK


SDK1_SCRIPT = """
import json, sys
import dashscope
from dashscope.client.base_api import BaseAsyncApi
from dashscope.aigc.image_synthesis import ImageSynthesis
base, key, url = sys.argv[1:4]
dashscope.base_http_api_url = base
submitted = BaseAsyncApi.async_call(model="wanx-style-repaint-v1", input={"image_url": url, "style_index": 2},
                                    task_group="aigc", task="image-generation", function="generation", api_key=key)
done = ImageSynthesis.wait(submitted.output["task_id"], api_key=key, wait_timeout=120)
print(json.dumps({"version": dashscope.__version__, "submit": submitted.status_code,
                  "status": done.output.task_status, "url": done.output.results[0].url}))
"""


@pytest.mark.skipif(
    not DASHSCOPE1_PYTHON.exists() and os.environ.get("CI") != "true",  # CI installs it (.ci/run): fail there
    reason=f"no dashscope 1.x venv at {DASHSCOPE1_PYTHON}",
)
def test_the_1x_sdk_runs_the_same_happy_path(live_server: LiveServer, photos: Photos) -> None:
    caller = live_server.caller()
    env = {key: value for key, value in os.environ.items() if not key.startswith("DASHSCOPE")}
    run = subprocess.run(
        [
            str(DASHSCOPE1_PYTHON),
            "-c",
            SDK1_SCRIPT,
            f"{live_server.base_url}/api/v1",
            caller.api_key,
            photos.url("face"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["version"].startswith("1.") and result["submit"] == 200 and result["status"] == "SUCCEEDED"
    assert download(result["url"]).size == (1536, 1536)


def test_the_error_table_maps_url_and_resolution_codes() -> None:
    url_codes = {cls.code for cls in _subclasses(UrlError)}
    assert url_codes >= {"url.invalid", "url.forbidden", "url.fetch_failed", "url.timeout", "url.not_image"}
    for code in url_codes:
        assert TABLE[code].code == "InvalidURL" and failure_code(code) == "InvalidURL"
    for cls in (ImageTooSmall, ImageSideTooLarge, ImageTooManyPixels):
        assert vendor_error(cls("x")).code == "InvalidImageResolution"
    assert failure_code("engine.output") == "InternalServerError"  # not in the table: the server's fault
    assert vendor_error(RestyleError("x", code="new.thing", status=429)).code == "Throttling"


def _subclasses(cls: type[RestyleError]) -> set[type[RestyleError]]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


def test_style_indexes_translate_to_the_numbered_presets(tmp_path: Path) -> None:
    resolve = Pipeline(Settings(data_dir=tmp_path)).resolve_style
    face = "http://127.0.0.1/face.png"
    for index in range(10):
        request = RepaintRequest(model=MODEL, input=RepaintInput(image_url=face, style_index=index))
        submission = to_submission(request, None, resolve)
        assert submission.fields == {"style": resolve(index).name} and submission.style_image is None
        assert submission.image is not None and submission.image.url == face
        assert submission.front == "dashscope"
    custom = RepaintInput(image_url=face, style_index=-1, style_ref_url="http://127.0.0.1/style.png")
    submission = to_submission(RepaintRequest(model=MODEL, input=custom), "key-1", resolve)
    assert submission.fields == {} and submission.idempotency_key == "key-1"
    assert submission.style_image is not None and submission.style_image.url == custom.style_ref_url


def test_an_unsafe_photo_fails_the_task_with_data_inspection_failed(live_server: LiveServer) -> None:
    from tests.fronts.conftest import png_bytes
    from tests.imaging.http_server import image_server
    from tests.safety.drawings import exposed_torso

    caller = live_server.caller()
    with image_server(png_bytes(exposed_torso())) as server:
        submitted = submit(caller, server.url("/face.png"))
        assert submitted.status_code == HTTPStatus.OK, submitted
        done = BaseAsyncApi.wait(submitted, api_key=caller.api_key, wait_timeout=WAIT)
    output = done.output
    assert output["task_status"] == "FAILED" and output["code"] == "DataInspectionFailed", output


def test_a_refused_output_fails_the_task_with_data_inspection_failed(
    live_server: LiveServer, astronaut: Any
) -> None:
    from tests.fronts.unsafe import INPUT_CHECK_OFF, face_over_torso
    from tests.imaging.http_server import image_server

    # the account's input image check is off: the photo is generated, the output check refuses it
    account = live_server.accounts.create(f"ds-post-{uuid.uuid4().hex[:8]}", qps=100, options=INPUT_CHECK_OFF)
    api_key = live_server.keys.issue(account).api_key
    with image_server(face_over_torso(astronaut)) as server:
        submitted = submit(api_key, server.url("/face.png"), style_index=6)  # 6: the "general" preset
        assert submitted.status_code == HTTPStatus.OK, submitted
        done = ImageSynthesis.wait(submitted, api_key=api_key, wait_timeout=WAIT)
    output = done.output
    assert output["task_status"] == "FAILED" and output["code"] == "DataInspectionFailed", output
    assert output["message"].startswith("The generated image was refused"), output["message"]
    assert not output.get("results"), output


def test_a_photo_over_10_mb_fails_the_task(live_server: LiveServer) -> None:
    from tests.fronts.conftest import png_bytes
    from tests.imaging.http_server import image_server

    noise = np.random.default_rng(7).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)
    big = png_bytes(noise)  # incompressible: about 12 MB, inside 5760x3240
    assert len(big) > 10 * 1024 * 1024
    caller = live_server.caller()
    with image_server(big) as server:
        submitted = submit(caller, server.url("/face.png"))
        assert submitted.status_code == HTTPStatus.OK, submitted
        done = BaseAsyncApi.wait(submitted, api_key=caller.api_key, wait_timeout=WAIT)
    output = done.output
    assert output["task_status"] == "FAILED" and output["code"] == "InvalidParameter", output
    assert str(10 * 1024 * 1024) in output["message"] or "10 MB" in output["message"], output["message"]


def test_default_limits_statuses_and_one_task_at_a_time(live_server: LiveServer, photos: Photos) -> None:
    # the seed's limits are an account's defaults: QPS 2 on submits, 1 task running at a time
    account = live_server.accounts.create(f"ds-defaults-{uuid.uuid4().hex[:8]}")
    assert (account.qps, account.concurrency) == (2, 1)
    api_key = live_server.keys.issue(account).api_key
    first, second = (submit(api_key, photos.url("face"), style_index=i) for i in (0, 7))
    third = submit(api_key, photos.url("face"))
    assert first.status_code == second.status_code == HTTPStatus.OK
    assert (third.status_code, third.code) == (429, "Throttling.RateQuota"), third
    # the second task waits PENDING while the first is RUNNING; both end SUCCEEDED
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + WAIT
    while not seen or seen[-1][1] != "SUCCEEDED":
        a, b = (BaseAsyncApi.fetch(t, api_key=api_key).output["task_status"] for t in (first, second))
        seen.append((a, b))
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert ("RUNNING", "PENDING") in seen, seen
    assert all(b == "PENDING" for a, b in seen if a in ("PENDING", "RUNNING")), seen
    assert seen[-1] == ("SUCCEEDED", "SUCCEEDED"), seen
