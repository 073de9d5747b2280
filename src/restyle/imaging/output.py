"""Output size rules: requested width/height by face-centred crop, else the input capped in size."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Geometry:
    """Crop box in input pixels and the final output size; ``scale`` maps cropped input to output."""

    crop: tuple[int, int, int, int]  # left, top, right, bottom
    width: int
    height: int

    @property
    def scale(self) -> float:
        return self.width / max(1, self.crop[2] - self.crop[0])

    @property
    def is_identity(self) -> bool:
        return self.crop == (0, 0, self.width, self.height)


def plan_geometry(
    input_size: tuple[int, int],
    face_center: tuple[float, float] | None,
    width: int | None,
    height: int | None,
    max_side: int = 2048,
    min_side: int = 64,
) -> Geometry:
    """Where to crop and how large to make the output.

    With both ``width`` and ``height`` the largest crop of that aspect that keeps the face
    (or the image centre) as central as the borders allow; with one of them the other follows
    the input aspect within ``min_side``..``max_side`` (past those bounds the input is cropped
    around the face instead); with neither the input size, scaled down to ``max_side`` on the
    long side.
    """
    in_w, in_h = input_size
    if width is None and height is None:
        factor = min(1.0, max_side / max(in_w, in_h))
        return Geometry((0, 0, in_w, in_h), max(1, round(in_w * factor)), max(1, round(in_h * factor)))
    if width is None or height is None:
        if width is None:
            assert height is not None
            width = round(in_w * height / in_h)
            width = max(min_side, min(max_side, width))
        else:
            height = round(in_h * width / in_w)
            height = max(min_side, min(max_side, height))
    aspect = width / height
    crop_w, crop_h = (in_w, in_w / aspect) if in_w / in_h <= aspect else (in_h * aspect, in_h)
    crop_w, crop_h = min(in_w, round(crop_w)), min(in_h, round(crop_h))
    cx, cy = face_center if face_center is not None else (in_w / 2.0, in_h / 2.0)
    left = int(np.clip(round(cx - crop_w / 2.0), 0, in_w - crop_w))
    top = int(np.clip(round(cy - crop_h / 2.0), 0, in_h - crop_h))
    return Geometry((left, top, left + crop_w, top + crop_h), width, height)


def apply_geometry(image: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Crop and resize ``image`` as planned (area filter down, cubic up)."""
    left, top, right, bottom = geometry.crop
    cropped = image[top:bottom, left:right]
    if cropped.shape[1] == geometry.width and cropped.shape[0] == geometry.height:
        return np.ascontiguousarray(cropped)
    shrinking = geometry.width < cropped.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(cropped, (geometry.width, geometry.height), interpolation=interpolation)
