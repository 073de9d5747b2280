"""Preset thumbnails for the studio's gallery: the bundled sample portrait in each preset, small.

Rendered lazily: the first request for a missing thumbnail starts one short-lived child process that
renders every missing preset through the same :class:`~restyle.pipeline.Pipeline` as tasks and exits,
so the API process never loads the face models (about 260 MB, see bench/reports/studio_thumbs.md).
Files are cached under ``<data dir>/studio/thumbs``: a restart renders nothing again, and start-up
never waits for them.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from restyle.config import Settings
from restyle.errors import InternalError

log = logging.getLogger(__name__)

SIZE = 160  # pixels, square: a gallery card, also sharp on 2x screens at 80 css px
SAMPLE = "astronaut"
VERSION = 1  # bump when the rendering below changes, so old cached files are not served
FACE_MARGIN = 2.4  # crop side / face width: head, hair and a little shoulder
RENDER_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.1


def thumbnail_path(folder: Path, engine: str, preset: str) -> Path:
    return folder / f"{engine}-{preset}-v{VERSION}.webp"


class ThumbnailCache:
    """One WebP per preset of the configured engine, rendered on first request and kept in ``folder``."""

    def __init__(self, settings: Settings, presets: list[str], folder: Path) -> None:
        self.settings = settings
        self.presets = presets
        self.folder = folder
        self._lock = threading.Lock()
        self._job: Future[dict[str, float]] | None = None

    def path(self, preset: str) -> Path:
        return thumbnail_path(self.folder, self.settings.engine.name, preset)

    def get(self, preset: str) -> Path:
        """The thumbnail file of ``preset`` (a preset name of the catalogue), rendered if missing."""
        target = self.path(preset)
        if target.exists():
            return target
        with self._lock:  # one render job at a time; requests for other presets wait on the same job
            if self._job is None or self._job.done():
                self._job = self._start(first=preset)
            job = self._job
        # the child writes each file as it is done: answer as soon as this one is there
        deadline = time.monotonic() + RENDER_TIMEOUT_SECONDS
        while not target.exists() and time.monotonic() < deadline:
            try:
                job.result(timeout=POLL_SECONDS)
                break
            except TimeoutError:
                continue
            except Exception as exc:
                log.exception("studio thumbnails could not be rendered")
                raise InternalError(f"The thumbnail of preset '{preset}' could not be rendered; the server logged why.") from exc
        if not target.exists():
            raise InternalError(f"The thumbnail of preset '{preset}' could not be rendered; the server logged why.")
        return target

    def _start(self, first: str) -> Future[dict[str, float]]:
        started = time.perf_counter()
        order = [first] + [name for name in self.presets if name != first]  # the one asked for first
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        job = pool.submit(render_missing, self.settings.model_dump(mode="json"), str(self.folder), order)

        def finished(done: Future[dict[str, float]]) -> None:
            pool.shutdown(wait=False)  # the child exits and takes the models with it
            if done.exception() is None:
                cpu = done.result()
                log.info(
                    "studio thumbnails: %d rendered in %.1f s (%.0f ms CPU in the child)",
                    len(cpu), time.perf_counter() - started, sum(cpu.values()),
                )  # fmt: skip

        job.add_done_callback(finished)
        return job


def _face_crop(image: np.ndarray) -> np.ndarray:
    """A square around the sample's main face (the whole image if none is found)."""
    from restyle.faces import detect_faces

    faces = detect_faces(image)
    if not faces:
        return image
    left, top, right, bottom = faces[0].box
    side = min(int((right - left) * FACE_MARGIN), image.shape[0], image.shape[1])
    cx, cy = (left + right) // 2, (top + bottom) // 2
    x0 = min(max(cx - side // 2, 0), image.shape[1] - side)
    y0 = min(max(cy - side // 2, 0), image.shape[0] - side)
    return image[y0 : y0 + side, x0 : x0 + side]


def render_missing(settings_json: dict[str, Any], folder: str, presets: list[str]) -> dict[str, float]:
    """Render the thumbnails of ``presets`` that are not in ``folder`` yet (in the child process);
    returns the CPU milliseconds of each one rendered."""
    from PIL import Image

    from restyle.domain import GenerateRequest, ImageSource, OutputFormat
    from restyle.pipeline import Pipeline
    from restyle.safety.policy import SafetyPolicy
    from restyle.samples import load_sample

    settings = Settings.model_validate(settings_json)
    # 1. the engine and the sample cropped to its face
    pipeline = Pipeline(settings)
    pipeline.engine.setup()
    buffer = io.BytesIO()
    Image.fromarray(_face_crop(load_sample(SAMPLE))).save(buffer, format="PNG")
    sample = buffer.getvalue()
    # 2. each missing preset at thumbnail size, without the guard, labels or safety checks (our own sample)
    spent: dict[str, float] = {}
    for preset in presets:
        target = thumbnail_path(Path(folder), settings.engine.name, preset)
        if target.exists():
            continue
        started = time.process_time()
        request = GenerateRequest(
            image=ImageSource(data=sample),
            style=preset,
            seed=7,
            width=SIZE,
            height=SIZE,
            face_switch=False,
            allow_no_face=True,
            output_format=OutputFormat.WEBP,
            output_quality=80,
            label_metadata=False,
            label_invisible=False,
            label_c2pa=False,
        )
        result = pipeline.render(request, safety=SafetyPolicy(enabled=False))
        _write_atomically(target, result.encoded)
        spent[preset] = 1000 * (time.process_time() - started)
    return spent


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".thumb-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
