"""Browser fixtures: a real ``restyle serve`` on a random loopback port and Debian's headless Chromium
driven by Playwright (pointed at /usr/bin/chromium; the browsers Playwright downloads are never used).

Without Chromium or Playwright the browser tests skip, except under CI=true where they fail.
With ``RESTYLE_SCREENSHOTS=DIR`` the tests save the studio's main states there as small PNGs
(``RESTYLE_SCREENSHOTS=docs/screenshots pytest tests/web`` refreshes the README's pictures).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.api.test_serve_process import Server, free_port

CHROMIUM = os.environ.get("RESTYLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@dataclass
class Studio:
    """The running server, its demo API key and the start-up banner it printed."""

    server: Server
    api_key: str
    banner: str
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.base + "/"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    data_dir = tmp_path_factory.mktemp("studio")
    server = Server(data_dir, free_port(), workers=1)
    try:
        match = re.search(r"API key:\s+(rsk_\S+)", server.banner)
        assert match, server.banner
        yield Studio(server, match.group(1), server.banner, data_dir)
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install 'restyle[test]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Shots:
    """Saves screenshots when RESTYLE_SCREENSHOTS names a folder: PNGs with as many colours (256 down
    to 32) as fit in LIMIT bytes, so the README's pictures stay small."""

    LIMIT = 195_000

    def __init__(self) -> None:
        folder = os.environ.get("RESTYLE_SCREENSHOTS")
        self.folder = Path(folder) if folder else None

    def save(self, page_or_element: Any, name: str) -> None:
        """A screenshot of the page's viewport (scrolled to the top) or of one element (a Locator)."""
        if self.folder is None:
            return
        if hasattr(page_or_element, "evaluate") and not hasattr(page_or_element, "first"):
            page_or_element.evaluate("window.scrollTo(0, 0)")
        self.folder.mkdir(parents=True, exist_ok=True)
        with Image.open(io.BytesIO(page_or_element.screenshot())) as shot:
            picture = shot.convert("RGB")
        for colours in (256, 128, 64, 32):
            buffer = io.BytesIO()
            small = picture.quantize(colors=colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            small.save(buffer, format="PNG", optimize=True)
            if buffer.tell() <= self.LIMIT:
                break
        (self.folder / f"{name}.png").write_bytes(buffer.getvalue())


@pytest.fixture(scope="session")
def shots() -> Shots:
    return Shots()


@pytest.fixture
def sample_files(tmp_path: Path) -> dict[str, Path]:
    """The bundled sample at small sizes: PNG, and HEIC as a phone takes it (two photos, so the second one
    waits in the queue), a small style image, and a text file that is not an image."""
    from pillow_heif import register_heif_opener

    from restyle.samples import load_sample

    register_heif_opener()
    photo = Image.fromarray(load_sample("astronaut"))
    files = {}
    for name, size in (("astronaut.png", 256), ("astronaut-2.heic", 288)):
        files[name] = tmp_path / name
        photo.resize((size, size)).save(files[name])
    files["palette.png"] = tmp_path / "palette.png"
    ramp = Image.linear_gradient("L").resize((96, 96))
    warm = (ramp, ramp.point(lambda v: int(v * 0.85)), ramp.point(lambda v: int(v * 0.6)))
    Image.merge("RGB", warm).save(files["palette.png"])  # a sepia palette
    files["notes.txt"] = tmp_path / "notes.txt"
    files["notes.txt"].write_text("these are notes, not a photo\n")
    return files
