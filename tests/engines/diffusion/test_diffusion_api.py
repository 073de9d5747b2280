"""A full native-API task rendered by the diffusion engine (tiny SD1.5) finishes SUCCEEDED."""

from __future__ import annotations

import io
import time
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from restyle.api import create_app
from tests.api.conftest import build_settings, multipart


def test_api_task_with_diffusion_engine_succeeds(
    tiny_models: dict[str, Path], tmp_path: Path, astronaut_png: bytes
) -> None:
    engine = {"name": "diffusion", "options": {"model": str(tiny_models["sd15"]), "max_side": 256}}
    app = create_app(build_settings(tmp_path, engine=engine))
    with TestClient(app) as client:
        deadline = time.monotonic() + 180
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the diffusion worker did not warm up"
            time.sleep(0.2)
        services = app.state.services
        account = services.accounts.create("diffusion-test", qps=100, concurrency=1)
        headers = {"Authorization": f"Bearer {services.keys.issue(account).api_key}"}
        fields = {"style": "watercolor", "seed": 11, "steps": 4, "prompt": "soft light"}
        response = client.post("/v1/tasks", headers=headers, **multipart(astronaut_png, wait=0, **fields))
        assert response.status_code == 202, response.text
        task = response.json()
        while task["status"] not in ("SUCCEEDED", "FAILED", "CANCELED") and time.monotonic() < deadline + 120:
            time.sleep(0.2)
            task = client.get(f"/v1/tasks/{task['id']}", headers=headers).json()
        assert task["status"] == "SUCCEEDED", task
        assert task["parameters"]["seed"] == 11 and task["parameters"]["style"] == "watercolor"
        (image,) = task["result"]["images"]
        download = client.get(image["url"])
        assert download.status_code == 200
        assert Image.open(io.BytesIO(download.content)).size == (320, 320)
