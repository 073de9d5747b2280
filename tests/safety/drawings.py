"""Synthetic test pictures drawn from shapes and colours (nothing is downloaded or committed).

``exposed_torso`` is a cartoon of a bare chest (skin-coloured ellipses, two shaded discs with darker
circles); NudeNet scores it FEMALE_BREAST_EXPOSED at about 0.85-0.88 over the skin tones and sizes
below. ``covered_torso`` is the same drawing with a band of cloth across the chest (below 0.2).
"""

from __future__ import annotations

import cv2
import numpy as np

SKIN_TONES = ((240, 200, 170), (224, 172, 140), (198, 134, 100))


def _shaded_disc(canvas: np.ndarray, cx: int, cy: int, radius: int, colour: tuple[int, int, int]) -> None:
    yy, xx = np.mgrid[: canvas.shape[0], : canvas.shape[1]]
    distance = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / radius
    inside = distance < 1
    shade = 1.0 - 0.25 * np.clip((yy - cy) / radius, -1, 1) - 0.15 * distance**2
    canvas[inside] = np.asarray(colour, np.float32) * shade[inside][:, None]


def exposed_torso(skin: tuple[int, int, int] = SKIN_TONES[0], radius: int = 80, size: int = 512) -> np.ndarray:
    """RGB uint8 size x size: a torso, neck and two shaded discs with areola-coloured circles."""
    canvas = np.full((size, size, 3), (60, 70, 90), np.float32)
    cv2.ellipse(canvas, (size // 2, size), (int(size * 0.42), int(size * 0.9)), 0, 0, 360, skin, -1)
    cv2.ellipse(canvas, (size // 2, int(size * 0.12)), (int(size * 0.1), int(size * 0.2)), 0, 0, 360, skin, -1)
    for side in (-1, 1):
        cx, cy = size // 2 + side * int(radius * 1.1), int(size * 0.55)
        _shaded_disc(canvas, cx, cy, radius, skin)
        centre = (cx, cy + int(radius * 0.2))
        cv2.circle(canvas, centre, 20, (150, 85, 75), -1)
        cv2.circle(canvas, centre, 6, (120, 68, 60), -1)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 3)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def covered_torso(skin: tuple[int, int, int] = SKIN_TONES[0]) -> np.ndarray:
    """The exposed torso with a red band of cloth across the chest."""
    canvas = exposed_torso(skin).copy()
    cv2.rectangle(canvas, (60, 250), (452, 350), (180, 30, 60), -1)
    return canvas
