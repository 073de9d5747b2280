"""Cel faces at full size: flat skin tones, hard face lines and features drawn from the landmarks.

Everything here is drawn in flat colours with hard edges (no photo pixels and no soft blends), so
a cel face has as few colours as the rest of the cel. Sizes follow each face's jaw width.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines.classic.ops.core import Box, Colour, Float, blur, f32, luminance
from restyle.engines.classic.ops.regions import Regions, faces_with_width, in_box
from restyle.faces.types import Face

Mask = npt.NDArray[np.bool_]
SMALL_FACE = 120.0  # px of jaw width under which a face is drawn with extra detail
_SHIFT = 4  # sub-pixel bits for cv2 drawing


def paint(image: Float, mask: Mask, colour: Colour | npt.NDArray[np.float32]) -> None:
    """Fill ``mask`` of ``image`` with the flat ``colour`` (in place)."""
    image[mask] = np.asarray(colour, np.float32)


Ramp = Callable[[npt.NDArray[np.float32]], Float]


def skin_tones(colour: Float, image: Float, regions: Regions, tones: Ramp, cut: float = 0.06,
               clean: float = 1.0) -> Float:
    """Each face (eyes excepted) in flat tones, lightest first, from ``tones(own)`` where ``own``
    is that face's median skin colour in the photo (so every person keeps their own skin tone):
    the photo's face shading (blurred, relative to the face's median) cut into hard bands ``cut``
    apart, so the shadows under brows, nose, lips and jaw become flat darker tones; bands narrower
    than about ``clean`` times 2.5 % of the face width are merged. In place; returns ``colour``."""
    if regions.masks is None or regions.box is None:
        return colour
    fw = regions.face_width
    eyes = regions.masks.eyes

    def fill(b: Box) -> Float:
        gray = blur(luminance(image[b]), (0.004 + 0.008 * clean) * fw)
        inside = (regions.face[b] > 0.45) & (eyes[b] < 0.5)
        skin = inside & (regions.features[b] < 0.3)
        count, faces = cv2.connectedComponents((regions.face[b] > 0.45).astype(np.uint8))
        crop = colour[b].copy()
        for k in range(1, count):
            own = skin & (faces == k)
            if not own.any():
                continue
            ramp = tones(np.median(image[b][own], axis=0).astype(np.float32))
            median = float(np.median(gray[own]))
            step = np.clip(np.floor((median + 0.5 * cut - gray) / np.float32(cut)) + 1, 0, len(ramp) - 1)
            step = step.astype(np.uint8)
            for _ in range(round(clean * max(1.0, 0.025 * fw / 5))):  # repeated 5 px medians: see merge_specks
                step = np.asarray(cv2.medianBlur(step, 5), np.uint8)
            mask = inside & (faces == k)
            crop[mask] = ramp[step[mask].astype(np.intp)]
        return crop

    return in_box(regions, colour, fill, inplace=True)


def own_skin(own: npt.NDArray[np.float32], light: Colour, shadow: Colour, keep: float = 0.6) -> tuple[Float, Float]:
    """(light, shadow) skin tones of a preset for a person whose skin is ``own`` (RGB): the
    preset's light tone moved ``keep`` of the way to the person's colour (lifted a little, as cel
    skin is lit), the shadow in the preset's own light-to-shadow ratio."""
    hi, lo = np.asarray(light, np.float32), np.asarray(shadow, np.float32)
    lifted = np.clip(own + (1.0 - own) * np.float32(0.2), 0.0, 1.0)
    tone = hi + (lifted - hi) * np.float32(keep)
    return f32(tone), f32(np.clip(tone * (lo / np.maximum(hi, 1e-3)), 0.0, 1.0))


def tone_ramp(light: Colour | Float, shadow: Colour | Float, levels: int, deep: float = 0.7) -> Float:
    """``levels`` flat tones, lightest first: ``light``, ``shadow`` and, from three levels on,
    the darkest hollows at ``deep`` times the shadow; from four levels on the extra tones sit
    between light and shadow."""
    hi, lo = np.asarray(light, np.float32), np.asarray(shadow, np.float32)
    if levels <= 3:
        return f32(np.array([hi, lo, lo * np.float32(deep)][:levels], np.float32))
    mids = [hi + (lo - hi) * np.float32(k / (levels - 2)) for k in range(1, levels - 2)]
    return f32(np.array([hi, *mids, lo, lo * np.float32(deep)], np.float32))


def face_lines(image: Float, regions: Regions, sigma: float, threshold: float, grow: float = 1.4,
               off_features: bool = True) -> Mask:
    """Hard ink lines (True) of the photo's face structure: XDoG of the face's luminance with its
    skin texture blurred away; ``threshold`` (negative DoG) sets how many lines; inside the face
    only, and with ``off_features`` not on eyes, brows and lips (:func:`features` draws those)."""
    out = np.zeros(image.shape[:2], bool)
    if regions.box is None:
        return out
    b = regions.box
    gray = luminance(image[b])
    inner = blur(gray, sigma)
    dog = inner - blur(gray, sigma * grow * 1.6) * np.float32(0.99)
    lines = (dog < -np.float32(threshold)) & (regions.face[b] > 0.5)
    if off_features:
        lines &= regions.features[b] < 0.5
    lines = cv2.morphologyEx(lines.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= max(8, int(sigma * sigma * 20))
    keep[0] = False
    out[b] = keep[labels]
    return out


def _poly(mask: npt.NDArray[np.uint8], pts: np.ndarray, closed: bool, thickness: int) -> None:
    poly = np.round(pts * (1 << _SHIFT)).astype(np.int32)
    if thickness < 0:
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, _SHIFT)
    else:
        cv2.polylines(mask, [poly], closed, 255, max(1, thickness), cv2.LINE_8, _SHIFT)


def _scaled(ring: np.ndarray, factor: float, lift: float = 0.0) -> np.ndarray:
    centre = ring.mean(axis=0)
    return np.asarray((ring - centre) * factor + centre - np.array([0.0, lift], np.float32), np.float32)


def _eye_tones(crop: Float, photo: Float, white: Mask, iris: np.ndarray, dark: np.ndarray) -> tuple[float, float]:
    """The eye opening in three flat tones read from the photo (white, iris, pupil and lashes);
    returns the centre (x, y) of the dark part, where the catchlights go."""
    gray = luminance(photo)
    values = gray[white]
    if values.size < 4:
        return float("nan"), float("nan")
    hi, lo = np.percentile(values, [55, 22])
    crop[white & (gray >= hi)] = np.float32(0.97)
    crop[white & (gray < hi)] = iris
    low = white & (gray < lo)
    crop[low] = dark
    ys, xs = np.nonzero(low | (white & (gray < hi)))
    return (float(xs.mean()), float(ys.mean())) if xs.size else (float("nan"), float("nan"))


def features(image: Float, photo: Float, faces: list[Face], line: Colour, iris: Colour, *,
             eye_scale: float = 1.2, weight: float = 1.0) -> Float:
    """Cel features drawn from the landmarks in flat colours, in place: eyes enlarged about their
    centres by ``eye_scale`` and cut into white, iris and pupil from the photo's own eye, two
    catchlights, a heavy upper lash line with a flick, solid brows, a nose reduced to a short
    stroke under its tip, and the mouth: a line when closed, an outlined opening with light
    teeth when open."""
    h, w = image.shape[:2]
    dark = np.asarray(line, np.float32)
    iris_c = np.asarray(iris, np.float32)
    for pts, fw in faces_with_width(faces, 24):
        left, top = max(0, int(pts[:, 0].min() - 0.1 * fw)), max(0, int(pts[17:27, 1].min() - 0.1 * fw))
        right, bottom = min(w, int(pts[:, 0].max() + 0.1 * fw) + 1), min(h, int(pts[:, 1].max() + 0.05 * fw) + 1)
        if right <= left or bottom <= top:
            continue
        p = pts - np.array([left, top], np.float32)
        crop = image[top:bottom, left:right]
        size = crop.shape[:2]
        ink = np.zeros(size, np.uint8)
        t = max(1, round(0.012 * fw * weight))
        for eye in (slice(36, 42), slice(42, 48)):
            ring = _scaled(p[eye], eye_scale, 0.03 * fw * (eye_scale - 1.0))
            centre = p[eye].mean(axis=0)
            eye_w = float(np.hypot(*(ring[3] - ring[0])))
            opening = np.zeros(size, np.uint8)
            _poly(opening, ring, True, -1)
            white = opening > 0
            # the photo's eye, enlarged by the same factor about its centre
            m = np.array([[1 / eye_scale, 0, centre[0] * (1 - 1 / eye_scale) + left],
                          [0, 1 / eye_scale, centre[1] * (1 - 1 / eye_scale) + top]], np.float32)
            warped = f32(cv2.warpAffine(photo, m, (size[1], size[0]), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REFLECT))
            gx, gy = _eye_tones(crop, warped, white, iris_c, iris_c * np.float32(0.45))
            if np.isfinite(gx):
                r = 0.22 * eye_w
                glint = np.zeros(size, np.uint8)
                for dx, dy, rad in ((-0.3, -0.35, 0.32), (0.35, 0.35, 0.15)):
                    cv2.circle(glint, (round(gx + dx * r), round(gy + dy * r)), max(1, round(rad * r)), 255, -1)
                paint(crop, (glint > 0) & white, (1.0, 1.0, 1.0))
            outer = 0 if eye.start == 36 else 3
            lid = ring[[0, 1, 2, 3]]
            flick = lid[outer] + (lid[outer] - ring.mean(axis=0)) * np.array([0.3, 0.0], np.float32)
            flick[1] = lid[outer][1] - 0.12 * eye_w
            chain = np.vstack([flick[None], lid]) if outer == 0 else np.vstack([lid, flick[None]])
            _poly(ink, chain, False, round(1.4 * t))
            _poly(ink, ring[[3, 4, 5, 0]], False, max(1, t // 2))
        for brow in (slice(17, 22), slice(22, 27)):
            _poly(ink, p[brow], False, round(1.4 * t))
        _poly(ink, p[[32, 33, 34]] + np.array([0.0, 0.01 * fw], np.float32), False, t)
        gap = float(np.hypot(*(p[66] - p[62])))
        if gap > 0.04 * fw:  # open: the opening outlined, teeth light
            inner = np.zeros(size, np.uint8)
            _poly(inner, p[60:68], True, -1)
            teeth = (inner > 0) & (luminance(photo[top:bottom, left:right]) > 0.45)
            paint(crop, (inner > 0), f32(dark * np.float32(1.6)))
            paint(crop, teeth, (0.98, 0.97, 0.95))
            _poly(ink, p[60:68], True, t)
        else:
            _poly(ink, p[[48, 60, 61, 62, 63, 64, 54]], False, round(1.3 * t))
        _poly(ink, p[[57, 58]] * 0.5 + p[[56, 57]] * 0.5, False, max(1, t // 2))
        paint(crop, ink > 0, dark)
    return image


def draw_face(out: Float, image: Float, faces: list[Face], regions: Regions, detail: float, *,
              light: Colour, shadow: Colour, line: Colour, iris: Colour, eye_scale: float = 1.2,
              weight: float = 1.0, cut: float = 0.08, line_sigma: float = 0.01,
              line_threshold: float = 0.02) -> Float:
    """A cel face on ``out`` (in place): :func:`skin_tones` from ``light`` to ``shadow``, the
    photo's main face lines (:func:`face_lines`, ``line_sigma`` relative to the face width) and the
    features (:func:`features`).

    ``detail`` (``RenderContext.detail``, 0..1) draws more of the photo's structure: more and
    narrower skin bands over a deeper range, eyes nearer their real size, lighter feature strokes,
    and fewer ink lines (on a face drawn in more tones the photo's lines read as extra creases).
    """
    # a small face has few pixels for cel simplification: draw it as if asked for more detail
    small = float(np.clip((SMALL_FACE - regions.face_width) / SMALL_FACE, 0.0, 0.5)) if regions.any else 0.0
    detail = max(float(np.clip(detail, 0.0, 1.0)), small)

    def ramp(own: npt.NDArray[np.float32]) -> Float:
        hi, lo = own_skin(own, light, shadow)
        return tone_ramp(hi, lo, 3 + round(3 * detail), deep=0.7 - 0.35 * detail)

    skin_tones(out, image, regions, ramp, cut * (1.0 - 0.55 * detail), clean=1.0 - detail)
    if regions.any:
        sigma = max(0.8, line_sigma * regions.face_width)
        paint(out, face_lines(image, regions, sigma, line_threshold * (1.0 + 1.5 * detail)), line)
    features(out, image, faces, line, iris, eye_scale=eye_scale - (eye_scale - 1.0) * detail,
             weight=weight * (1.0 - 0.6 * detail))
    return out
