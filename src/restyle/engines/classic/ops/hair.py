"""The highlight band of cel-painted hair: a lighter, zig-zag edged arc across the crown."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic.ops.core import Float
from restyle.engines.classic.ops.regions import Regions, faces_with_width
from restyle.faces.types import Face


def hair_highlight(image: Float, faces: list[Face], regions: Regions, gain: float) -> Float:
    """Lighten (``gain`` times, towards white) the hair above each face along an arc about a
    third of the way down from the crown, its edges zig-zagged like painted strokes; in place.
    Hair is the head mask outside the face, above the brows."""
    h, w = image.shape[:2]
    for pts, fw in faces_with_width(faces, 24):
        cx = float(pts[:, 0].mean())
        brow = float(pts[17:27, 1].min())
        left, right = max(0, int(cx - 0.9 * fw)), min(w, int(cx + 0.9 * fw) + 1)
        top, bottom = max(0, int(brow - 0.9 * fw)), min(h, int(brow) + 1)
        if right <= left or bottom <= top:
            continue
        ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
        dx, dy = (xs - cx) / np.float32(0.62 * fw), (ys - brow) / np.float32(0.62 * fw)
        r = np.sqrt(dx * dx + dy * dy)
        angle = np.arctan2(dy, dx)
        zig = np.float32(0.05) * np.abs(np.sin(angle * np.float32(9.0)))
        band = (r > 0.62 + zig) & (r < 0.74 + 0.5 * zig) & (dy < -0.15)
        hair = (regions.head[top:bottom, left:right] > 0.5) & (regions.face[top:bottom, left:right] < 0.2)
        crop = image[top:bottom, left:right]
        mask = band & hair
        crop[mask] = np.clip(crop[mask] * np.float32(gain) + np.float32(0.08), 0.0, 1.0)
    return image
