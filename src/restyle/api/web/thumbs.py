"""Preset thumbnails for the studio's gallery: the bundled sample portrait in each preset, small.

Rendered lazily (the first request for a preset renders it, later ones read the file), through the
same :class:`~restyle.pipeline.Pipeline` as tasks, and cached on disk under
``<data dir>/studio/thumbs`` so a restart renders nothing again. Start-up never waits for them.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from restyle.domain import GenerateRequest, ImageSource, OutputFormat
from restyle.faces import detect_faces
from restyle.pipeline import Pipeline
from restyle.safety.policy import SafetyPolicy
from restyle.samples import load_sample

log = logging.getLogger(__name__)

SIZE = 160  # pixels, square: a gallery card, also sharp on 2x screens at 80 css px
SAMPLE = "astronaut"
VERSION = 1  # bump when the rendering below changes, so old cached files are not served
FACE_MARGIN = 2.4  # crop side / face width: head, hair and a little shoulder


def _face_crop(image: np.ndarray) -> np.ndarray:
    """A square around the sample's main face (the whole image if none is found)."""
    faces = detect_faces(image)
    if not faces:
        return image
    left, top, right, bottom = faces[0].box
    side = min(int((right - left) * FACE_MARGIN), image.shape[0], image.shape[1])
    cx, cy = (left + right) // 2, (top + bottom) // 2
    x0 = min(max(cx - side // 2, 0), image.shape[1] - side)
    y0 = min(max(cy - side // 2, 0), image.shape[0] - side)
    return image[y0 : y0 + side, x0 : x0 + side]


class ThumbnailCache:
    """One WebP per preset of ``pipeline``'s engine, rendered on first request and kept in ``folder``."""

    def __init__(self, pipeline: Pipeline, folder: Path) -> None:
        self.pipeline = pipeline
        self.folder = folder
        self._lock = threading.Lock()  # Pipeline.render takes one request at a time
        self._sample_png: bytes | None = None
        self._engine_ready = False

    def path(self, preset: str) -> Path:
        engine = self.pipeline.settings.engine.name
        return self.folder / f"{engine}-{preset}-v{VERSION}.webp"

    def get(self, preset: str) -> Path:
        """The thumbnail file of ``preset`` (a preset name of the catalogue), rendered if missing."""
        target = self.path(preset)
        if target.exists():
            return target
        with self._lock:
            if not target.exists():  # another request may have rendered it while this one waited
                started = time.process_time()
                data = self._render(preset)
                _write_atomically(target, data)
                log.info("studio thumbnail %s rendered in %.0f ms CPU", preset, 1000 * (time.process_time() - started))
        return target

    def _render(self, preset: str) -> bytes:
        # 1. the engine (a no-op for classic) and the sample cropped to its face, once per process
        if not self._engine_ready:
            self.pipeline.engine.setup()
            self._engine_ready = True
        if self._sample_png is None:
            buffer = io.BytesIO()
            Image.fromarray(_face_crop(load_sample(SAMPLE))).save(buffer, format="PNG")
            self._sample_png = buffer.getvalue()
        # 2. the preset at thumbnail size, without the guard, labels or safety checks (our own sample)
        request = GenerateRequest(
            image=ImageSource(data=self._sample_png),
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
        result = self.pipeline.render(request, safety=SafetyPolicy(enabled=False))
        return result.encoded


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
