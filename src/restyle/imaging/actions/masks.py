"""Anti-aliased alpha masks for circle and rounded-corners, and cutting pixels out with them."""

from __future__ import annotations

import cv2
import numpy as np

from restyle.imaging.actions.canvas import Canvas

_SHIFT = 4  # sub-pixel bits for OpenCV's anti-aliased drawing


def circle_mask(size: int, radius: float) -> np.ndarray:
    """A ``size`` x ``size`` mask, 255 inside a circle of ``radius`` centred in it."""
    mask = np.zeros((size, size), dtype=np.uint8)
    centre = round((size / 2 - 0.5) * (1 << _SHIFT))
    cv2.circle(mask, (centre, centre), round(radius * (1 << _SHIFT)), 255, -1, cv2.LINE_AA, _SHIFT)
    return mask


def apply_mask(canvas: Canvas, pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``pixels`` cut out by ``mask``: transparent outside when the output keeps alpha, else white."""
    if canvas.keeps_alpha:
        rgba = np.empty((*mask.shape, 4), dtype=np.uint8)
        rgba[..., :3] = pixels[..., :3]
        rgba[..., 3] = mask if pixels.shape[2] == 3 else (pixels[..., 3].astype(np.uint16) * mask // 255)
        return rgba
    weight = mask.astype(np.float32)[..., None] / 255.0
    if pixels.shape[2] == 4:
        weight = weight * (pixels[..., 3:4].astype(np.float32) / 255.0)
    rgb = pixels[..., :3].astype(np.float32) * weight + 255.0 * (1.0 - weight)
    out: np.ndarray = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return out
