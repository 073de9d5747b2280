"""Learn a style image's look (palette, tones, saturation, contrast, line density) and lay it on a result.

The style image is measured once at a small size (:func:`measure_style`); :func:`transfer_style`
moves a rendered image's Lab statistics to it (mean/std plus a lightness histogram match), pulls
colours towards the style's palette, then matches line density: more ink lines when the style is
line-heavy, smoother surfaces when it is soft. With ``keep_face_look`` (``facestyle_switch``) the
colours are pulled back towards the input photo's own, fully on the face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from restyle.engines.classic import ops

_MEASURE_SIDE = 256
_PALETTE_SIZE = 6
_QUANTILES = np.linspace(0.0, 100.0, 33)


@dataclass(frozen=True)
class StyleStats:
    """Colour and texture statistics of an image, in CIE Lab (L 0..100, a/b about -128..127).

    ``chroma`` is the mean colourfulness (sqrt(a^2 + b^2)), ``contrast`` the lightness standard
    deviation, ``edge_density`` the fraction of pixels on a strong edge, ``palette`` the dominant
    Lab colours (k-means) and ``lightness_quantiles`` the lightness distribution.
    """

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    chroma: float
    contrast: float
    edge_density: float
    palette: np.ndarray
    lightness_quantiles: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for the result's info)."""
        return {
            "lab_mean": [round(v, 2) for v in self.mean],
            "lab_std": [round(v, 2) for v in self.std],
            "chroma": round(self.chroma, 2),
            "contrast": round(self.contrast, 2),
            "edge_density": round(self.edge_density, 4),
            "palette_lab": [[round(float(v), 1) for v in c] for c in self.palette],
        }


def to_lab(image: np.ndarray) -> ops.Float:
    """RGB uint8 -> float32 Lab."""
    return ops.f32(cv2.cvtColor(ops.to_float(image), cv2.COLOR_RGB2Lab))


def from_lab(lab: ops.Float) -> np.ndarray:
    """float32 Lab -> RGB uint8 (out-of-gamut colours clipped)."""
    return ops.to_uint8(ops.f32(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)))


def _palette(pixels: np.ndarray, k: int) -> np.ndarray:
    """Deterministic k-means in Lab: centres start at lightness quantiles, 8 Lloyd iterations."""
    order = np.argsort(pixels[:, 0], kind="stable")
    centres = pixels[order[np.linspace(0, len(order) - 1, k).astype(int)]].astype(np.float64)
    for _ in range(8):
        d = ((pixels[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        label = d.argmin(1)
        for i in range(k):
            members = pixels[label == i]
            if len(members):
                centres[i] = members.mean(0)
    return ops.f32(centres)


def measure_style(image: np.ndarray, *, palette: bool = True) -> StyleStats:
    """Statistics of an RGB uint8 image, measured on a copy with a 256 px short side
    (``palette=False`` skips the palette search when only the statistics are needed)."""
    small, _ = ops.downscale(image, _MEASURE_SIDE)
    lab = to_lab(small)
    flat = lab.reshape(-1, 3)
    mean = flat.mean(0)
    std = flat.std(0)
    chroma = float(np.sqrt(flat[:, 1] ** 2 + flat[:, 2] ** 2).mean())
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (0, 0), 1.0), 60, 140)
    step = max(1, len(flat) // 4000)
    colours = _palette(flat[::step].astype(np.float32), _PALETTE_SIZE) if palette else np.zeros((0, 3), np.float32)
    return StyleStats(
        mean=(float(mean[0]), float(mean[1]), float(mean[2])),
        std=(float(std[0]), float(std[1]), float(std[2])),
        chroma=chroma,
        contrast=float(std[0]),
        edge_density=float((edges > 0).mean()),
        palette=colours,
        lightness_quantiles=ops.f32(np.percentile(flat[:, 0], _QUANTILES)),
    )


def _stats_affine(source: StyleStats, target: StyleStats, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (gain, bias) moving ``source``'s Lab mean/std towards ``target``'s by ``amount``."""
    mean_s, std_s = np.array(source.mean, np.float32), np.array(source.std, np.float32)
    mean_t, std_t = np.array(target.mean, np.float32), np.array(target.std, np.float32)
    ratio = np.clip(std_t / np.maximum(std_s, 1e-3), 0.4, 2.5)
    gain = 1.0 + (ratio - 1.0) * amount
    bias = mean_s * (1.0 - gain) + (mean_t - mean_s) * amount
    return gain.astype(np.float32), bias.astype(np.float32)


def match_stats(lab: ops.Float, source: StyleStats, target: StyleStats, amount: float) -> ops.Float:
    """Move ``lab``'s per-channel mean/std from ``source``'s towards ``target``'s by ``amount``."""
    gain, bias = _stats_affine(source, target, amount)
    matrix = np.zeros((3, 4), np.float32)
    matrix[[0, 1, 2], [0, 1, 2]] = gain
    matrix[:, 3] = bias
    return ops.f32(cv2.transform(lab, matrix))


def _lightness_curve(quantiles: np.ndarray, target: StyleStats, amount: float) -> ops.Float:
    """A 256-entry table from 8-bit lightness (L * 2.55) with the given ``quantiles`` to the
    histogram-matched L, by ``amount``."""
    levels = np.arange(256, dtype=np.float32) / np.float32(2.55)
    mapped = np.interp(levels, np.maximum.accumulate(quantiles), target.lightness_quantiles)
    return ops.f32(levels + (mapped - levels) * amount)


def _palette_shift(lab: ops.Float, palette: np.ndarray, amount: float) -> tuple[ops.Float, ops.Float]:
    """Shifts of a and b that pull each pixel towards its nearest palette colour (lightness weighted
    less). Computed on an eighth-size copy and upsampled: the shift is a smooth colour cast and the
    nearest-colour search is the costly part."""
    h, w = lab.shape[:2]
    small = cv2.resize(lab, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    flat = small.reshape(-1, 3)
    weights = np.array([0.5, 1.0, 1.0], np.float32)
    dist = (((flat[:, None, :] - palette[None, :, :]) * weights) ** 2).sum(-1)
    target = palette[dist.argmin(1)][:, 1:]
    shift = ((target - flat[:, 1:]) * np.float32(amount)).reshape(small.shape[0], small.shape[1], 2)
    shift = ops.f32(cv2.resize(shift, (w, h), interpolation=cv2.INTER_LINEAR))
    da, db = cv2.split(shift)
    return ops.f32(da), ops.f32(db)


def _match_line_density(image: np.ndarray, current: StyleStats, target: StyleStats, amount: float) -> np.ndarray:
    """More ink lines when the style is busier with edges, a smoother surface when it is calmer."""
    ratio = (target.edge_density + 0.005) / (current.edge_density + 0.005)
    scale = min(image.shape[:2]) / 512.0
    if ratio > 1.2:
        gray = ops.luminance(ops.to_float(image))
        lines = ops.xdog_lines(gray, sigma=0.9 * scale, tau=0.98, phi=40.0)
        weight = float(np.clip((ratio - 1.2) / 2.0, 0.0, 0.7)) * amount
        out = ops.to_float(image) * (1.0 - weight * (1.0 - lines))[:, :, None]
        return ops.to_uint8(ops.f32(out))
    if ratio < 0.7:
        weight = float(np.clip((0.7 - ratio) / 0.5, 0.0, 1.0)) * amount
        radius = max(2, round(4 * scale))
        smooth = cv2.ximgproc.guidedFilter(image, image, radius, 0.01 * 255.0**2)
        return np.asarray(cv2.addWeighted(image, 1.0 - weight, smooth, weight, 0.0), np.uint8)
    return image


def transfer_style(result: np.ndarray, style: StyleStats, *, amount: float = 1.0,
                   original: np.ndarray | None = None, keep_face_look: bool = False,
                   face_mask: np.ndarray | None = None) -> np.ndarray:
    """``result`` (RGB uint8) with the look of the image ``style`` was measured on.

    Steps: 1. Lab mean/std transfer; 2. lightness histogram match (half weight); 3. pull towards
    the style palette; 4. with ``keep_face_look``, colours pulled back towards ``original``'s
    statistics (60 %) and, through ``face_mask``, the original's face colours (a/b) restored;
    5. line density matched.
    """
    if amount <= 0:
        return result
    current = measure_style(result, palette=False)
    # 1. Mean and spread of every Lab channel.
    lab = match_stats(to_lab(result), current, style, amount)
    # 2.-3. Lightness through the matched histogram; a and b pulled towards the style palette.
    lightness, a, b = cv2.split(lab)
    gain, bias = _stats_affine(current, style, amount)
    quantiles = current.lightness_quantiles * gain[0] + bias[0]  # after step 1
    table = _lightness_curve(quantiles, style, 0.5 * amount).reshape(256, 1)
    lightness = cv2.LUT(cv2.convertScaleAbs(lightness, alpha=2.55), table)
    if len(style.palette):
        da, db = _palette_shift(lab, style.palette, 0.25 * amount)
        a, b = cv2.add(a, da), cv2.add(b, db)
    out = from_lab(ops.f32(cv2.merge([ops.f32(lightness), a, b])))
    # 4. facestyle_switch: the person keeps their own colouring.
    if keep_face_look and original is not None:
        out = keep_own_look(out, original, face_mask)
    # 5. Line density.
    return _match_line_density(out, current, style, amount)


def keep_own_look(result: np.ndarray, original: np.ndarray, face_mask: np.ndarray | None,
                  amount: float = 0.6) -> np.ndarray:
    """``result``'s colours pulled back towards ``original``'s Lab statistics by ``amount``, and
    through ``face_mask`` (float HxW 0..1) the original's own face colours (a/b) mostly restored."""
    lab = match_stats(to_lab(result), measure_style(result, palette=False),
                      measure_style(original, palette=False), amount)
    if face_mask is not None and float(face_mask.max()) > 0.01:
        rows, cols = np.nonzero(face_mask > 0.01)
        box = slice(int(rows.min()), int(rows.max()) + 1), slice(int(cols.min()), int(cols.max()) + 1)
        source = to_lab(original[box])
        alpha = (np.clip(face_mask[box], 0.0, 1.0) * 0.85)[:, :, None].astype(np.float32)
        crop = lab[box]
        crop[..., 1:] += (source[..., 1:] - crop[..., 1:]) * alpha
    return from_lab(lab)
