"""Gongbi (工笔, the ``elegant_chinese`` preset): fine even ink outlines around flat mineral colours.

Everything is a flat fill of a small fixed set of colours (mineral pigments, silk, two skin tones)
and every edge is an ink line, as on a gongbi painting; no photo texture is kept. With
``RenderContext.detail`` raised the face gets more shade bands and more of the photo's lines, still
in the same colours and ink. The identity guard uses the engine's generic redraw instead (the face's
own flat colours requantised from the photo's shading), which the bench finds keeps the face as
flat as the rest for the same identity.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.faces.types import Face

GONGBI_INK = (0.24, 0.16, 0.13)
SILK = (0.94, 0.92, 0.85)
MOON = (0.99, 0.97, 0.92)
CLOUD_LINE = (0.62, 0.74, 0.66)
IVORY_SKIN = (0.98, 0.9, 0.84)
LIP_RED = (0.78, 0.36, 0.34)
CHEEK_PINK = (0.96, 0.8, 0.76)
MINERALS = [  # jade, pale jade, azurite, indigo, pale ochre, ochre, muted cinnabar, rouge pink,
    # ivory, ink grey, pale flesh tones
    (0.36, 0.58, 0.48), (0.66, 0.8, 0.7), (0.36, 0.5, 0.68), (0.22, 0.27, 0.38), (0.88, 0.78, 0.6),
    (0.72, 0.56, 0.36), (0.72, 0.32, 0.27), (0.9, 0.7, 0.68), (0.95, 0.93, 0.85), (0.24, 0.26, 0.32),
    (0.94, 0.8, 0.7), (0.85, 0.66, 0.56),
]


def mineral_palette(palette: ops.Float) -> ops.Float:
    """Each palette colour as the nearest mineral pigment by hue and lightness, a little of its own
    colour kept; chroma counts more than lightness, so hue decides."""
    pigments = np.array(MINERALS, np.float32)
    weights = np.array(ops.LUMA, np.float32)

    def key(c: np.ndarray) -> np.ndarray:
        y = (c @ weights)[:, None]
        return np.concatenate([y, (c - y) * 1.6], axis=1)

    luma = (palette @ weights)[:, None]
    vivid = np.clip(luma + (palette - luma) * 1.3, 0.0, 1.0)
    chosen = pigments[((key(vivid)[:, None, :] - key(pigments)[None, :, :]) ** 2).sum(-1).argmin(1)]
    return ops.f32(0.15 + 0.85 * (0.7 * chosen + 0.3 * (luma + (palette - luma) * 0.5)))


def _clean_labels(image: ops.Float, palette: ops.Float, size: int) -> np.ndarray:
    """The nearest palette index per pixel, specks removed: a median filter on the indices ordered
    by lightness, so a speck takes a neighbouring region's colour."""
    order = np.argsort(palette @ np.array(ops.LUMA, np.float32))
    ranks = np.zeros((len(order), 3), np.float32)
    ranks[:, 0] = np.arange(len(order), dtype=np.float32)
    # the rank rides in the first channel of the (table-driven) nearest-colour lookup
    nearest = ops.nearest_colour(image, palette[order], ranks)[..., 0]
    ranked = cv2.medianBlur(np.rint(nearest).astype(np.uint8), size)
    labels: np.ndarray = order[ranked]
    return labels


def _without_specks(ink: np.ndarray, min_area: int) -> ops.Float:
    """Paper (1) everywhere but the ink strokes (0) of at least ``min_area`` pixels."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return ops.f32(~keep[labels])


def _outlines(image: ops.Float, width: int) -> np.ndarray:
    """True on a ``width``-pixel line where neighbouring pixels differ in colour."""
    key = cv2.transform(image, np.array([[1.0, 37.0, 1361.0]], np.float32))  # one number per flat colour
    edge = np.zeros(image.shape[:2], bool)
    edge[:, :-1] |= np.abs(key[:, 1:] - key[:, :-1]) > 0.01
    edge[:-1, :] |= np.abs(key[1:, :] - key[:-1, :]) > 0.01
    if width > 1:
        return np.asarray(cv2.dilate(edge.astype(np.uint8), np.ones((width, width), np.uint8)) > 0)
    return edge


def _silk_ground(shape: tuple[int, ...], faces: list[Face], rng: np.random.Generator) -> ops.Float:
    """Flat silk with a flat moon disc behind the head and auspicious-cloud curls as thin lines."""
    h, w = shape[:2]
    back = np.empty((h, w, 3), np.float32)
    back[:] = np.array(SILK, np.float32)
    if faces:
        face = faces[0]
        centre = (round(face.center[0] + 0.25 * face.width), round(face.center[1] - 0.35 * face.width))
        cv2.circle(back, centre, round(1.5 * face.width), MOON, -1, cv2.LINE_AA)
    unit = min(h, w) / 9.0
    thick = max(1, round(unit / 26))
    for _ in range(3):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = unit * rng.uniform(0.35, 0.6)
        for k in range(3):
            c = (round(cx + k * 1.1 * r), round(cy - (k % 2) * 0.35 * r))
            axes = (round(r * (1.0 - 0.2 * k)), round(r * (0.7 - 0.1 * k)))
            cv2.ellipse(back, c, axes, 0, 180, 380, CLOUD_LINE, thick, cv2.LINE_AA)
            cv2.ellipse(back, c, (round(r * 0.45), round(r * 0.35)), 0, 200, 420, CLOUD_LINE, thick, cv2.LINE_AA)
    return ops.f32(back)


def _skin_tones(image: ops.Float, skin: ops.Float, bands: int) -> tuple[ops.Float, ops.Float]:
    """``bands`` flat skin colours, light to dark, from the photo's own skin hue paled towards ivory;
    and the photo's skin lightness thresholds between them."""
    weight = skin.reshape(-1)
    total = float(weight.sum())
    mean = (image.reshape(-1, 3) * weight[:, None]).sum(axis=0) / total if total > 1.0 else np.array(IVORY_SKIN)
    light = 0.55 * np.array(IVORY_SKIN, np.float32) + 0.45 * np.clip(mean * 1.25, 0.0, 1.0)
    tones = ops.f32(np.stack([light * (1.0 - 0.11 * k) for k in range(bands)]))
    luma = ops.luminance(image).reshape(-1)
    inside = luma[weight > 0.5]
    if inside.size < 16:
        inside = luma
    cuts = ops.f32(np.quantile(inside, [1.0 - (k + 1) / (bands + 0.6) for k in range(bands - 1)]))
    return tones, cuts


def _paint_faces(out: ops.Float, image: ops.Float, regions: ops.Regions, detail: float) -> None:
    """In place: each face as flat skin bands (two, up to four with ``detail``), lips in red."""
    if regions.box is None or regions.masks is None:
        return
    box = regions.box
    fw = max(regions.face_width, 1.0)
    bands = 2 + round(2 * detail)
    shaded = ops.blur(image[box], (0.045 - 0.03 * detail) * fw)
    tones, cuts = _skin_tones(shaded, regions.masks.skin[box], bands)
    level = (ops.luminance(shaded)[..., None] < cuts[None, None, :]).sum(axis=2)
    skin = tones[level]
    face = ops.f32(np.clip((regions.face[box] - 0.35) * 4.0, 0.0, 1.0))
    painted = ops.mix(out[box], skin, face)
    lips = ops.f32(np.clip((regions.masks.lips[box] - 0.3) * 3.0, 0.0, 1.0))
    painted = ops.towards(painted, LIP_RED, lips * np.float32(0.8))
    # irises and lashes: the eyes' darkest part filled with ink, as a gongbi painter dots them
    eyes = regions.masks.eyes[box] > 0.35
    if eyes.any():
        luma = ops.luminance(ops.blur(image[box], 0.006 * fw))
        dark = eyes & (luma <= np.quantile(luma[eyes], 0.45))
        painted = ops.towards(painted, GONGBI_INK, ops.f32(ops.blur(dark.astype(np.float32), 0.6) * 0.9))
    out[box] = painted


def _cheeks(out: ops.Float, faces: list[Face]) -> None:
    """In place: a flat, soft-edged pink on each cheek."""
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        fw = float(np.hypot(*(pts[16] - pts[0])))
        if fw < 16:
            continue
        for corner, eye in ((2, slice(36, 42)), (14, slice(42, 48))):
            c = pts[corner] * 0.5 + pts[eye].mean(axis=0) * 0.5 + np.array([0.0, 0.15 * fw], np.float32)
            r = 0.12 * fw
            left, top = max(0, int(c[0] - r)), max(0, int(c[1] - r))
            right, bottom = min(out.shape[1], int(c[0] + r) + 1), min(out.shape[0], int(c[1] + r) + 1)
            if right <= left or bottom <= top:
                continue
            disc = np.zeros((bottom - top, right - left), np.float32)
            cv2.circle(disc, (round(c[0] - left), round(c[1] - top)), round(0.8 * r), 1.0, -1)
            out[top:bottom, left:right] = ops.towards(out[top:bottom, left:right], CHEEK_PINK, ops.f32(disc * 0.5))


def render_gongbi(ctx: RenderContext) -> np.ndarray:
    """Steps (1-2 at working size): 1. flat mineral fills (a 9-colour k-means palette mapped to
    pigments, no blur); 2. the figure on a flat silk ground with a moon disc and cloud lines; 3.
    full size, snapped back to the flat colours; 4. faces as flat skin bands with red lips; 5. fine
    even ink outlines of the flattened picture and of the photo's face; 6. pink cheeks."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = max(regions.face_width, 1.0)
    detail = float(np.clip(ctx.detail, 0.0, 1.0))

    # 1. Flat mineral fills.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.1, iterations=3)
    guide = ops.luminance(smooth)
    smooth = ops.f32(np.clip(cv2.ximgproc.guidedFilter(guide, smooth, max(2, round(5 * ws)), 0.008), 0.0, 1.0))
    palette = ops.kmeans_palette(smooth, 8, ctx.rng)
    minerals = mineral_palette(palette)
    fills = minerals[_clean_labels(smooth, palette, max(7, 2 * round(5.5 * ws) + 1))]

    # 2. The figure on silk.
    faces = ops.scale_faces(ctx.faces, factor)
    figure = ops.f32(ops.figure_mask(smooth, faces) > 0.5)
    ground = _silk_ground(small.shape, faces, ctx.rng)
    out = ops.mix(ground, fills, figure)

    # 3. Full size, snapped to the flat colours so region edges stay crisp; the outlines of the
    # regions are found here, before the faces are painted.
    flat = np.concatenate([minerals, np.array([SILK, MOON, CLOUD_LINE], np.float32)])
    out = ops.nearest_colour(ops.f32(ops.resize_to(out, image.shape)), flat)
    outlines = _outlines(out, max(1, round(s)))

    # 4. Faces in flat skin bands.
    _paint_faces(out, image, regions, detail)

    # 5. Ink: the regions' outlines, and on the face the photo's own lines (eyes, brows, nose,
    # mouth, jaw); long strokes only.
    if regions.box is not None:
        box = regions.box
        face_gray = ops.blur(ops.luminance(image[box]), (0.012 - 0.005 * detail) * fw)
        face_lines = ops.xdog_lines(face_gray, sigma=0.6 * s, tau=0.99, epsilon=0.003 - 0.004 * detail, phi=200.0)
        inside = regions.face[box] > 0.5
        outlines[box] = np.where(inside, face_lines < 0.5, outlines[box])
    out = ops.ink(out, _without_specks(outlines, round(30 * s * s) + 4), GONGBI_INK)

    # 6. Cheeks.
    _cheeks(out, ctx.faces)
    return ops.apply_strength(ctx.image, out, ctx.strength)
