"""Render the studio's missing preset thumbnails; run as a script in a child process of the server.

``python -P render_thumbs.py FOLDER PRESET...`` with the server's settings as JSON on stdin: renders
each preset whose file is missing through the same Pipeline as tasks, writes it atomically (the server
answers each thumbnail as soon as its file appears), prints the CPU milliseconds spent per preset as
JSON, and exits. Run as a file, not as ``-m``, so that the child does not import the web service.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZE = 160  # pixels, square: a gallery card, also sharp on 2x screens at 80 css px
SAMPLE = "astronaut"
VERSION = 1  # bump when the rendering below changes, so old cached files are not served
FACE_MARGIN = 2.4  # crop side / face width: head, hair and a little shoulder


def thumbnail_path(folder: Path, engine: str, preset: str) -> Path:
    return folder / f"{engine}-{preset}-v{VERSION}.webp"


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


def render_missing(settings_json: dict[str, Any], folder: Path, presets: list[str]) -> dict[str, float]:
    """Render the thumbnails of ``presets`` that are not in ``folder`` yet; the CPU ms of each one."""
    from PIL import Image

    from restyle.config import Settings
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
        target = thumbnail_path(folder, settings.engine.name, preset)
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


def main() -> None:
    folder, presets = Path(sys.argv[1]), sys.argv[2:]
    spent = render_missing(json.load(sys.stdin), folder, presets)
    json.dump(spent, sys.stdout)


if __name__ == "__main__":
    main()
