"""Skin colour model: chroma statistics sampled on the cheeks, evaluated in YCrCb."""

from __future__ import annotations

import cv2
import numpy as np

_MIN_SIGMA = 4.0  # chroma units; keeps the model tolerant of flat, noise-free cheeks
_FULL, _ZERO = 3.0, 5.0  # Mahalanobis distances where the probability starts to fall and reaches 0


def skin_probability(
    crop: np.ndarray, cheeks: np.ndarray, *, radius: float, inside: np.ndarray | None = None
) -> np.ndarray:
    """Per-pixel probability (float32 in [0, 1]) that ``crop`` (RGB uint8) shows the cheeks' skin.

    ``cheeks`` holds the (x, y) centres of the sample patches, ``radius`` their half size;
    ``inside`` (optional, same size as ``crop``) limits sampling to pixels where it exceeds 0.5.
    Returns ones when there are too few samples to build a model.
    """
    h, w = crop.shape[:2]
    ycc = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2YCrCb).astype(np.float32)
    r = max(1, int(round(radius)))
    samples = []
    for cx, cy in np.asarray(cheeks, np.float32):
        x0, x1 = max(0, int(cx) - r), min(w, int(cx) + r + 1)
        y0, y1 = max(0, int(cy) - r), min(h, int(cy) + r + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        patch = ycc[y0:y1, x0:x1].reshape(-1, 3)
        if inside is not None:
            patch = patch[inside[y0:y1, x0:x1].reshape(-1) > 0.5]
        samples.append(patch)
    pixels = np.concatenate(samples) if samples else np.empty((0, 3), np.float32)
    if len(pixels) < 8:
        return np.ones((h, w), np.float32)
    chroma = pixels[:, 1:]
    mean = chroma.mean(axis=0)
    cov = np.cov(chroma, rowvar=False) + np.eye(2) * _MIN_SIGMA**2
    inv = np.linalg.inv(cov).astype(np.float32)
    d = ycc[..., 1:] - mean.astype(np.float32)
    dist2 = d[..., 0] ** 2 * inv[0, 0] + 2.0 * d[..., 0] * d[..., 1] * inv[0, 1] + d[..., 1] ** 2 * inv[1, 1]
    prob = np.clip((_ZERO - np.sqrt(dist2)) / (_ZERO - _FULL), 0.0, 1.0)
    # Very dark pixels (hair, nostrils, deep shadow) are not skin whatever their chroma.
    luma = float(np.median(pixels[:, 0]))
    dark = np.clip((ycc[..., 0] - 0.25 * luma) / max(0.2 * luma, 1.0), 0.0, 1.0)
    out: np.ndarray = (prob * dark).astype(np.float32)
    return out
