"""Processed copies of stored images: cached beside the source, but never for chains that read other
objects (a watermark image that changes must show in the next copy)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image

from restyle.imaging.actions import parse_actions
from restyle.imaging.derived import derived_prefix, process_stored
from restyle.storage.local import LocalStorage


def _png(colour: tuple[int, int, int], size: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _corner(data: bytes) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[-3, -3])


def test_a_watermark_image_that_changes_shows_in_the_next_copy(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("b/photo.png", _png((255, 255, 255), 200))
    storage.put("b/logo.png", _png((255, 0, 0), 20))
    mark = base64.urlsafe_b64encode(b"b/logo.png").decode().rstrip("=")
    chain = parse_actions(f"image/watermark,image_{mark},g_se,x_0,y_0,t_100/format,png")

    def run() -> bytes:
        return process_stored(
            storage, "b/photo.png", chain, deadline_seconds=10, max_output_pixels=10**7, resolve_object=storage.get
        ).data

    assert _corner(run())[:3] == (255, 0, 0)
    storage.put("b/logo.png", _png((0, 0, 255), 20))
    assert _corner(run())[:3] == (0, 0, 255)
    assert storage.list_prefix(derived_prefix("b/photo.png")) == []  # never cached


def test_a_plain_chain_is_cached_once(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("b/photo.png", _png((10, 20, 30), 100))
    chain = parse_actions("image/resize,w_50")
    first = process_stored(storage, "b/photo.png", chain, deadline_seconds=10, max_output_pixels=10**7)
    again = process_stored(storage, "b/photo.png", chain, deadline_seconds=10, max_output_pixels=10**7)
    assert (first.cached, again.cached) == (False, True) and again.data == first.data
