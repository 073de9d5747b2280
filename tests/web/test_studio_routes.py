"""The studio's routes without a browser: the page and its CSP, static assets, public presets, thumbnails."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from restyle.api import create_app
from restyle.api.web import STATIC
from restyle.config import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("studio"), auth={"demo_account": False})
    with TestClient(create_app(settings, start_workers=False)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/", "/studio"])
def test_page_has_a_strict_content_security_policy(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = {part.split()[0]: part.split()[1:] for part in answer.headers["content-security-policy"].split("; ")}
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "blob:", "data:"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in answer.headers["content-security-policy"]
    assert answer.headers["referrer-policy"] == "no-referrer"  # result links carry signatures


def test_a_volcengine_action_by_get_is_not_answered_with_the_page(client: TestClient) -> None:
    answer = client.get("/?Action=CVProcess&Version=2022-08-31")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method.not_allowed"


def test_page_loads_nothing_from_elsewhere_and_has_no_inline_code(client: TestClient) -> None:
    html = client.get("/").text
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith(("/studio/static/", "#")), url
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_every_module_and_stylesheet_is_served_from_the_package(client: TestClient) -> None:
    names = sorted(path.name for path in STATIC.iterdir() if path.suffix in (".js", ".css", ".svg"))
    assert "app.js" in names and "studio.css" in names
    for name in names:
        answer = client.get(f"/studio/static/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["x-content-type-options"] == "nosniff"
        if name.endswith(".js"):
            assert answer.headers["content-type"].startswith("text/javascript")
            for imported in re.findall(r'from "([^"]+)"', answer.text):
                assert imported.startswith("./") and imported[2:] in names, (name, imported)
            assert "http://" not in answer.text and "https://" not in answer.text, name


@pytest.mark.parametrize("name", ["index.html", "..%2Fthumbs.py", "thumbs.py", "APP.JS", "nope.js"])
def test_only_the_studio_assets_are_served(client: TestClient, name: str) -> None:
    answer = client.get(f"/studio/static/{name}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "endpoint.not_found"


def test_presets_are_public(client: TestClient) -> None:
    answer = client.get("/v1/styles")  # no Authorization: the gallery shows before sign-in
    assert answer.status_code == 200
    assert {"anime", "sketch"} <= {preset["name"] for preset in answer.json()["data"]}


def test_thumbnail_is_rendered_once_and_cached_under_the_data_dir(client: TestClient) -> None:
    first = client.get("/studio/thumbs/sketch.webp")
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(first.content)) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (160, 160)
        pixels = thumb.convert("L")
        assert pixels.getextrema()[1] - pixels.getextrema()[0] > 100  # a drawing, not a blank square
    services = client.app.state.services  # type: ignore[attr-defined]
    cached = list(Path(services.settings.data_dir, "studio", "thumbs").glob("*sketch*.webp"))
    assert len(cached) == 1 and cached[0].read_bytes() == first.content
    stamp = cached[0].stat().st_mtime_ns
    again = client.get("/studio/thumbs/sketch.webp")
    assert again.content == first.content and cached[0].stat().st_mtime_ns == stamp  # read, not re-rendered


@pytest.mark.parametrize("name", ["nope.webp", "sketch.png", "Sketch.webp", "sketch.webp.webp"])
def test_unknown_thumbnail_is_a_404_in_words(client: TestClient, name: str) -> None:
    answer = client.get(f"/studio/thumbs/{name}")
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "style.not_found",
        "message": f"There is no preset thumbnail '{name}'; see GET /v1/styles.",
    }


def test_a_thumbnail_that_cannot_be_rendered_is_an_error_in_words_and_no_child_per_request(tmp_path: Path) -> None:
    from restyle.api.web.thumbs import ThumbnailCache
    from restyle.errors import TryLater

    settings = Settings(data_dir=tmp_path, engine={"name": "no_such_engine"})  # fails in the child process
    cache = ThumbnailCache(settings, ["anime"], tmp_path / "thumbs")
    with pytest.raises(TryLater, match="thumbnail of preset 'anime' could not be rendered"):
        cache.get("anime")
    failed = cache._job
    with pytest.raises(TryLater, match="could not be rendered") as again:  # at once, from the last failure
        cache.get("anime")
    assert cache._job is failed and again.value.retry_after > 60  # no second child started
    assert not list((tmp_path / "thumbs").glob("*.webp")) if (tmp_path / "thumbs").exists() else True
