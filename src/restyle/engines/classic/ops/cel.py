"""Cel painting: a region-wise flat palette, hard shadow tones and outlines along the regions.

The image is cut into regions by a k-means palette in Lab on an edge-preserving smoothed copy
(working size), specks are merged into their neighbours by a median filter over the labels
(ranked by lightness, so a speck takes a neighbouring region's colour), and every region is then
filled with one flat colour, or two where a hard-edged shadow crosses it. Outlines come from the
boundaries between regions whose colours differ. Labels are upscaled to full size by nearest
neighbour and smoothed there, so region edges stay crisp and the output keeps few colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines.classic.ops.core import Float, blur, f32

Labels = npt.NDArray[np.uint8]
_SAMPLES = 6000
CEL_SHORT_SIDE = 352  # regions are cut at this size: big flat shapes, few boundaries


def to_lab(image: Float) -> Float:
    """Lab (L 0..100, a and b about -100..100) of a float RGB image."""
    return f32(cv2.cvtColor(np.ascontiguousarray(np.clip(image, 0.0, 1.0), dtype=np.float32), cv2.COLOR_RGB2Lab))


def from_lab(lab: Float) -> Float:
    """Float RGB in 0..1 of Lab colours (any shape ending in 3)."""
    shape = lab.shape
    rgb = cv2.cvtColor(np.ascontiguousarray(lab.reshape(-1, 1, 3), dtype=np.float32), cv2.COLOR_Lab2RGB)
    return f32(np.clip(rgb, 0.0, 1.0).reshape(shape))


def lab_palette(image: Float, colours: int, rng: np.random.Generator, lightness: float = 1.0,
                focus: npt.NDArray[np.bool_] | None = None) -> Float:
    """``colours`` k-means centres (colours, 3) in Lab of a pixel subsample of ``image`` (RGB);
    ``lightness`` above 1 separates tones more than hues; with ``focus`` half of the sample comes
    from those pixels (the people), so a busy scene cannot take all the colours. Seeded from
    ``rng`` (deterministic)."""
    lab = to_lab(image).reshape(-1, 3)
    pick = rng.choice(len(lab), size=min(_SAMPLES, len(lab)), replace=False)
    inside = np.flatnonzero(focus.ravel()) if focus is not None else np.zeros(0, np.intp)
    if inside.size >= _SAMPLES // 10:
        half = min(_SAMPLES // 2, inside.size)
        pick = np.concatenate([pick[: _SAMPLES - half], rng.choice(inside, size=half, replace=False)])
    pick = np.sort(pick)
    data = np.ascontiguousarray(lab[pick] * np.array([lightness, 1.0, 1.0], np.float32), dtype=np.float32)
    if len(data) <= colours:
        return f32(data / np.array([lightness, 1.0, 1.0], np.float32))
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 15, 0.05)
    _, _, found = cv2.kmeans(data, colours, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    centres = f32(np.asarray(found, np.float32).reshape(-1, 3) / np.array([lightness, 1.0, 1.0], np.float32))
    return f32(centres[np.argsort(centres[:, 0])])  # darkest first: label order is lightness order


def nearest_labels(image: Float, palette_lab: Float, lightness: float = 1.0) -> Labels:
    """Index of the nearest palette colour (Lab distance) per pixel, through a 32^3 RGB table."""
    grid = (np.arange(32, dtype=np.float32) + 0.5) / 32.0
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    weights = np.array([lightness, 1.0, 1.0], np.float32) ** 2
    d = (((to_lab(cube) - palette_lab.reshape(1, -1, 3)) ** 2) * weights).sum(axis=2)
    table = d.argmin(axis=1).astype(np.uint8)
    q = cv2.convertScaleAbs(np.maximum(image, 0.0), alpha=31.0).astype(np.float32)
    index = cv2.transform(q, np.array([[1024.0, 32.0, 1.0]], np.float32)).astype(np.int32)
    labels: Labels = table[index]
    return labels


def merge_specks(labels: Labels, size: int, passes: int = 2) -> Labels:
    """Labels with regions narrower than about ``size`` px merged into their neighbours (median
    filters; labels must be in lightness order, as :func:`lab_palette` returns them). One median
    of ``size``, then ``passes - 1`` of at most 5 px: OpenCV's 8-bit median wider than 5 px is
    about 20 times slower per pixel, and once the specks are gone a small one smooths as well."""
    out = np.asarray(cv2.medianBlur(labels, size | 1), dtype=np.uint8)
    for _ in range(passes - 1):
        out = np.asarray(cv2.medianBlur(out, min(5, size | 1)), dtype=np.uint8)
    return out


def hard_shadow(luma: Float, sigma: float, depth: float, size: int) -> npt.NDArray[np.uint8]:
    """1 where ``luma`` is darker than its surroundings (blurred by ``sigma``) by ``depth``: the
    one hard-edged shadow tone of a cel, cleaned of specks narrower than ``size`` px."""
    local = blur(luma, sigma)
    shadow = (luma < local - np.float32(depth)).astype(np.uint8)
    return merge_specks(shadow, min(size, 5), 2)


def upscale_labels(labels: Labels, shape: tuple[int, ...], smooth: int) -> Labels:
    """``labels`` at the full ``shape`` by nearest neighbour, the staircase smoothed by a median
    filter of ``smooth`` px (odd; 1 = none)."""
    h, w = shape[:2]
    big = np.asarray(cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST), dtype=np.uint8)
    if smooth > 1:
        big = np.asarray(cv2.medianBlur(big, smooth | 1), dtype=np.uint8)
    return big


def boundaries(labels: Labels, distance: Float, threshold: float, width: int) -> npt.NDArray[np.bool_]:
    """True on ``width``-pixel lines where neighbouring labels' colours differ by more than
    ``threshold`` (``distance`` is the (n, n) table of colour distances between labels, n <= 16)."""
    far = (distance > threshold).astype(np.uint8)
    n = len(far)
    if n > 16:
        raise ValueError("boundaries() takes at most 16 labels")
    # each pair of neighbours (a, b) as one byte a * n + b, looked up in the flattened table
    lut = np.zeros((1, 256), np.uint8)
    lut[0, : n * n] = far.ravel()
    scaled = (labels * np.uint8(n)).astype(np.uint8)
    edge = np.zeros(labels.shape, np.uint8)
    edge[:, 1:] = cv2.LUT(scaled[:, 1:] + labels[:, :-1], lut)
    edge[1:, :] |= np.asarray(cv2.LUT(scaled[1:, :] + labels[:-1, :], lut), np.uint8)
    if width > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
        edge = np.asarray(cv2.dilate(edge, kernel))
    return np.asarray(edge > 0)


def lab_distances(palette_lab: Float, dark: float = 0.0) -> Float:
    """(n, n) Euclidean Lab distances between palette colours; 0 between two colours both darker
    than lightness ``dark`` (an outline between them would not show)."""
    d = np.sqrt(((palette_lab[:, None, :] - palette_lab[None, :, :]) ** 2).sum(-1))
    low = palette_lab[:, 0] < dark
    d[low[:, None] & low[None, :]] = 0.0
    return f32(d)


@dataclass
class Cel:
    """A cel segmentation at working size: ``labels`` (palette index per pixel, lightness order),
    ``shadow`` (1 inside the hard shadow tone), ``palette`` (Lab, darkest first)."""

    labels: Labels
    shadow: npt.NDArray[np.uint8]
    palette: Float

    def tones(self, base: Float, shade: Float) -> Float:
        """(2n, 3) RGB table: index ``label * 2 + shadow``; ``base`` and ``shade`` are (n, 3) RGB."""
        table = np.empty((2 * len(base), 3), np.float32)
        table[0::2], table[1::2] = base, shade
        return table

    def index(self) -> Labels:
        """``label * 2 + shadow`` per pixel, the index into :meth:`tones`."""
        out: Labels = (self.labels.astype(np.uint8) * 2 + self.shadow).astype(np.uint8)
        return out


def segment(smooth: Float, colours: int, rng: np.random.Generator, speck: int,
            shadow_sigma: float, shadow_depth: float, lightness: float = 1.3, passes: int = 3,
            focus: npt.NDArray[np.bool_] | None = None) -> Cel:
    """Steps: 1. Lab k-means palette of ``smooth`` (working size, edge-preserving smoothed), half
    of it sampled on ``focus`` if given; 2. nearest labels, specks of about ``speck`` px merged;
    3. the hard shadow tone."""
    palette = lab_palette(smooth, colours, rng, lightness, focus)
    labels = merge_specks(nearest_labels(smooth, palette, lightness), speck, passes)
    luma = f32(cv2.cvtColor(np.ascontiguousarray(smooth), cv2.COLOR_RGB2GRAY))
    shadow = hard_shadow(blur(luma, 1.0), shadow_sigma, shadow_depth, speck)
    return Cel(labels, shadow, palette)


def simplify_backdrop(cut: Cel, figure: npt.NDArray[np.bool_], speck: int) -> Cel:
    """``cut`` with the scene behind the figure (``figure`` False) simplified: specks up to
    ``speck`` px merged and no shadow tone, as a cel background is a few big flat shapes."""
    merged = merge_specks(cut.labels, speck, 2)
    labels = np.where(figure, cut.labels, merged).astype(np.uint8)
    shadow = np.where(figure, cut.shadow, 0).astype(np.uint8)
    return Cel(labels, shadow, cut.palette)


def fill(index: Labels, table: Float) -> Float:
    """Flat colour image: ``table[index]`` (through a 256-entry OpenCV lookup table)."""
    lut = np.zeros((256, 1, 3), np.float32)
    lut[: len(table), 0] = table
    return f32(cv2.LUT(cv2.merge([index, index, index]), lut))
