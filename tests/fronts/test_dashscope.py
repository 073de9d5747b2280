"""The DashScope front driven by the real ``dashscope`` SDK (2.x in this environment; the 1.x SDK
through a subprocess when its venv exists) against a live ``restyle serve`` on 127.0.0.1, with
photos served by loopback HTTP servers. Calls as protocols/README.md section 2 shows them."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import dashscope
import httpx
import pytest
from dashscope.aigc.image_synthesis import ImageSynthesis
from dashscope.client.base_api import BaseApi, BaseAsyncApi
from PIL import Image

from restyle.api.fronts.dashscope.errors import TABLE, failure_code, vendor_error
from restyle.errors import ImageSideTooLarge, ImageTooManyPixels, ImageTooSmall, RestyleError, UrlError
from tests.fronts.conftest import Caller, LiveServer, Photos

MODEL = "wanx-style-repaint-v1"
ROUTE = {"task_group": "aigc", "task": "image-generation", "function": "generation"}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
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

    done = BaseAsyncApi.wait(submitted, api_key=caller.api_key)
    assert done.status_code == HTTPStatus.OK and done.output["task_status"] == "SUCCEEDED", done
    output = done.output
    assert output["task_id"] == task_id and output["style_index"] == 3
    for name in ("submit_time", "scheduled_time", "start_time", "end_time"):
        assert TIME.match(output[name]), (name, output[name])
    assert done.usage == {"image_count": 1} and len(output["results"]) == 1
    image = download(output["results"][0]["url"])
    assert image.format == "PNG" and image.size == (1536, 1536)  # a square photo: short side 1536

    fetched = BaseAsyncApi.fetch(task_id, api_key=caller.api_key)
    assert fetched.output["task_status"] == "SUCCEEDED" and fetched.output["results"]
