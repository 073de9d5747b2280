"""The photo's face structure redrawn in the stylized face's own terms (the guard's style steps).

For a preset that does not honour ``RenderContext.detail`` itself: inside each face's feathered
mask, the photo's shading is mapped into the stylized face's tone range and requantised into the
stylized face's own palette, the photo's XDoG lines are inked in its darkest colour, and the
stylized image's fine texture (brush, paper, hatching) is laid back on top. No photo pixel is
copied: every colour comes from the stylized face.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.faces.masks import crop_masks
from restyle.faces.types import Face

PALETTE_SIZE = 14
_SAMPLES = 4000  # pixels of the face sampled for the palette
_L_WEIGHT = 2.0  # lightness counts more than hue when choosing a palette colour
_TEXTURE_SIGMA = 1.5  # the stylized image's texture finer than this (px) is laid back on top
_LINE_SIGMA = 0.006  # XDoG inner sigma, relative to the face width
_SHADE_SIGMA = 0.008  # shading blur before requantising, relative to the face width


def _palette(lab: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Up to PALETTE_SIZE Lab colours of the stylized face (k-means on a weighted sample)."""
    pixels = lab.reshape(-1, 3)
    w = weights.reshape(-1).astype(np.float64)
    inside = np.flatnonzero(w > 0.5)
    if inside.size < PALETTE_SIZE:
        inside = np.arange(pixels.shape[0])
    pick = inside if inside.size <= _SAMPLES else rng.choice(inside, _SAMPLES, replace=False)
    sample = np.ascontiguousarray(pixels[pick], dtype=np.float32)
    k = int(min(PALETTE_SIZE, len(np.unique(sample.round(1), axis=0))))
    if k < 2:
        return np.asarray(sample[:1], dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 0.5)
    cv2.setRNGSeed(7)
    _, _, centres = cv2.kmeans(sample, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return np.asarray(centres, dtype=np.float32)


def _nearest(lightness: np.ndarray, hue: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the palette colour nearest to each pixel's (lightness, a, b), lightness weighted.

    The squared distance W(L-l)^2 + |ab-p|^2 is, up to the pixel's own constant, linear in
    (L, a, b): one affine transform per palette colour and a running minimum, instead of a
    pixels x colours x 3 difference array.
    """
    weights = np.array([_L_WEIGHT, 1.0, 1.0], np.float32)
    pixels = np.ascontiguousarray(np.dstack([lightness, hue]), dtype=np.float32)
    best = np.full(lightness.shape, np.inf, np.float32)
    index = np.zeros(lightness.shape, np.intp)
    for k, colour in enumerate(np.asarray(palette, np.float32)):
        row = np.append(-2.0 * weights * colour, (weights * colour**2).sum()).astype(np.float32)
        cost = cv2.transform(pixels, row.reshape(1, 4)).reshape(lightness.shape)
        closer = cost < best
        index[closer] = k
        np.minimum(best, cost, out=best)
    return index.reshape(-1)


def _xdog(lightness: np.ndarray, sigma: float) -> np.ndarray:
    """Dark lines (0..1, 1 = full ink) of a 0..100 lightness image."""
    g1 = cv2.GaussianBlur(lightness, (0, 0), sigma)
    g2 = cv2.GaussianBlur(lightness, (0, 0), 1.6 * sigma)
    dog = (g1 - 0.98 * g2) / 100.0
    ink = np.clip(1.0 - np.tanh(60.0 * (dog + 0.004)) , 0.0, 1.0)
    ink = np.where(dog < -0.004, ink, 0.0)
    return np.asarray(cv2.GaussianBlur(ink.astype(np.float32), (0, 0), 0.6), dtype=np.float32)


def _matched(source: np.ndarray, target: np.ndarray, weights: np.ndarray, keep: float) -> np.ndarray:
    """``source`` shifted to ``target``'s weighted mean and scaled to its spread, or to ``keep`` of
    its own spread where that is larger."""
    total = float(weights.sum()) or 1.0
    ms, mt = float((source * weights).sum() / total), float((target * weights).sum() / total)
    ss = float(np.sqrt(((source - ms) ** 2 * weights).sum() / total)) or 1.0
    st = float(np.sqrt(((target - mt) ** 2 * weights).sum() / total))
    # the photo's contrast is kept in part even where the style flattened the face completely
    spread = max(st, keep * ss)
    return np.asarray(mt + (source - ms) * (spread / ss), dtype=np.float32)


def redraw_face(stylized: np.ndarray, photo: np.ndarray, face: Face, detail: float, *,
                flat: bool = False) -> np.ndarray:
    """``stylized`` (RGB uint8) with ``face`` redrawn from ``photo``'s structure at ``detail`` 0..1.

    ``flat`` (cel presets) keeps the palette's tones hard-edged: nothing is softened and no texture
    is laid back, so the face has the cel's flat tones rather than a posterised photo's gradients.
    (Cleaning the tone regions of specks and solid ink lines as well cost identity: twice as many
    faces then needed photo blends on the bench.)

    Steps: 1. crops and the feathered face mask; 2. the stylized face's palette; 3. target
    lightness: the stylized face's, moved by ``detail`` towards the photo's shading matched to the
    stylized tone range; 4. requantise to the palette (nearest in Lab, lightness weighted); 5. ink
    the photo's lines in the darkest palette colour; 6. lay the stylized texture back; 7. blend
    through the mask.
    """
    detail = float(np.clip(detail, 0.0, 1.0))
    if detail <= 0.0:
        return stylized
    masks = crop_masks((int(stylized.shape[0]), int(stylized.shape[1])), face)
    rows, cols = masks.slices()
    mask = masks.on_crop("face")
    if mask.size == 0 or float(mask.max()) <= 0.0:
        return stylized
    # 1. float crops in Lab
    styl = stylized[rows, cols].astype(np.float32) / 255.0
    orig = photo[rows, cols].astype(np.float32) / 255.0
    styl_lab = cv2.cvtColor(styl, cv2.COLOR_RGB2Lab)
    orig_l = cv2.cvtColor(orig, cv2.COLOR_RGB2Lab)[..., 0]
    width = float(max(face.width, 1))
    # 2. palette of the stylized face
    palette = _palette(styl_lab, mask, np.random.default_rng(0))
    # 3. target lightness
    styl_l = styl_lab[..., 0]
    shade = cv2.GaussianBlur(orig_l, (0, 0), max(0.6, _SHADE_SIGMA * width))
    target_l = styl_l + np.float32(detail) * (_matched(shade, styl_l, mask, 0.6) - styl_l)
    hue = cv2.GaussianBlur(styl_lab[..., 1:], (0, 0), max(1.0, 0.02 * width))
    # 4. requantise: each pixel takes the palette colour nearest to (target L, stylized a, b)
    index = _nearest(target_l, hue, palette).reshape(styl_l.shape)
    drawn_lab = palette[index]
    if not flat:
        drawn_lab = cv2.GaussianBlur(drawn_lab, (0, 0), 0.7)
    # 5. the photo's lines in the darkest palette colour
    ink = _xdog(orig_l, max(0.8, _LINE_SIGMA * width)) * np.float32(min(1.0, 0.4 + 0.6 * detail))
    darkest = palette[int(np.argmin(palette[:, 0]))]
    drawn_lab = drawn_lab + ink[..., None] * (darkest.reshape(1, 1, 3) - drawn_lab)
    drawn = cv2.cvtColor(np.ascontiguousarray(drawn_lab, dtype=np.float32), cv2.COLOR_Lab2RGB)
    # 6. the stylized image's own texture on top
    if not flat:
        drawn = drawn + (0.8 - 0.6 * detail) * (styl - cv2.GaussianBlur(styl, (0, 0), _TEXTURE_SIGMA))
    # 7. through the feathered mask; the weight grows with detail so low levels stay gentle
    alpha = (mask * min(1.0, 0.5 + detail))[..., None]
    blended = styl + alpha * (drawn - styl)
    out = stylized.copy()
    out[rows, cols] = np.clip(blended * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def redraw_faces(stylized: np.ndarray, photo: np.ndarray, faces: list[Face], detail: float, *,
                 flat: bool = False) -> np.ndarray:
    """:func:`redraw_face` for every face, in order."""
    out = stylized
    for face in faces:
        out = redraw_face(out, photo, face, detail, flat=flat)
    return out
