"""Face regions and face-aware drawing: masks, detail keeping, feature redraw, eyes, skin."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from restyle.engines.classic.ops.core import (
    Box,
    Colour,
    Float,
    Image,
    blur,
    f32,
    luminance,
    mix,
    plus,
    resize_to,
    to_float,
    towards,
)
from restyle.faces.masks import FaceMasks, build_masks
from restyle.faces.types import Face

# --- face regions ------------------------------------------------------------------------------


@dataclass
class Regions:
    """Soft face regions of one image (float32 HxW in 0..1; zeros when there is no face).

    ``face`` covers jaw to forehead, ``head`` adds hair, ``features`` is eyes + brows + lips.
    ``box`` (row slice, column slice) bounds the face masks (face, skin and features; not the
    larger head) so that face-only work runs on that crop; it is None when there is no face.
    ``face_width`` is the main face's jaw width in pixels (0 without a face): size face-only
    filters by it, not by the image size.
    """

    face: Float
    head: Float
    features: Float
    masks: FaceMasks | None
    box: Box | None
    face_width: float = 0.0

    @property
    def any(self) -> bool:
        return self.box is not None


def face_regions(image: Image, faces: list[Face]) -> Regions:
    """The soft face regions of ``image`` for ``faces`` (an empty list gives zero masks)."""
    if not faces:
        zero = np.zeros(image.shape[:2], np.float32)
        return Regions(zero, zero, zero, None, None)
    masks = build_masks(image, faces)
    features = np.minimum(masks.eyes + masks.brows + masks.lips, 1.0)
    patches = [p for c in masks.crops for p in (c.face, c.skin, c.eyes, c.brows, c.lips)
               if p is not None and p.values.size]
    box = None
    if patches:
        left, top = min(p.region[0] for p in patches), min(p.region[1] for p in patches)
        right, bottom = max(p.region[2] for p in patches), max(p.region[3] for p in patches)
        box = (slice(top, bottom), slice(left, right))
    pts = np.asarray(faces[0].landmarks, np.float32)
    width = float(np.hypot(*(pts[16] - pts[0])))
    return Regions(f32(masks.face), f32(masks.head), f32(features), masks, box, width)


def in_box(regions: Regions, image: Float, fn: Callable[[Box], Float], *, inplace: bool = False) -> Float:
    """``image`` with its face box replaced by ``fn(box)``: a copy, or ``image`` itself changed when
    ``inplace`` (pass only an image you own; saves a full-size copy). Unchanged without a face."""
    if regions.box is None:
        return image
    out = image if inplace else image.copy()
    out[regions.box] = fn(regions.box)
    return out


def subject_mask(shape: tuple[int, ...], faces: list[Face], feather: float = 0.25) -> Float:
    """Rough person mask without segmentation: each face's head plus a torso widening to the
    bottom of the image, feathered by ``feather`` face widths; a centred ellipse without faces."""
    h, w = shape[:2]
    small, factor = np.zeros((max(1, h // 4), max(1, w // 4)), np.float32), 0.25
    if not faces:
        axes = (max(1, small.shape[1] // 3), max(1, small.shape[0] // 2 - 1))
        cv2.ellipse(small, (small.shape[1] // 2, small.shape[0] // 2), axes, 0, 0, 360, 1.0, -1)
        return f32(resize_to(blur(small, 0.1 * min(small.shape)), shape))
    sigma = 1.0
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32) * factor
        fw = max(2.0, float(np.hypot(*(pts[16] - pts[0]))))
        cx, chin = float(pts[:, 0].mean()), float(pts[8, 1])
        top = float(pts[19:25, 1].min()) - 0.75 * fw
        cv2.ellipse(small, (round(cx), round((top + chin) / 2)), (round(0.75 * fw), round((chin - top) / 2)),
                    0, 0, 360, 1.0, -1)
        neck = chin + 0.35 * fw
        bottom = small.shape[0]
        torso = np.array([[cx - 0.45 * fw, chin], [cx + 0.45 * fw, chin], [cx + 1.3 * fw, neck],
                          [cx + 2.0 * fw, bottom], [cx - 2.0 * fw, bottom], [cx - 1.3 * fw, neck]])
        cv2.fillPoly(small, [np.round(torso).astype(np.int32)], 1.0)
        sigma = max(sigma, feather * fw)
    return f32(np.clip(resize_to(blur(small, sigma), shape), 0.0, 1.0))


def keep_face_detail(styled: Float, original: Float, regions: Regions, amount: float, sigma: float,
                     fine: float = 0.0, mask: Float | None = None, *, inplace: bool = False) -> Float:
    """Put the original's luminance structure back into ``styled`` on the face.

    The band of detail between ``fine`` and ``sigma`` (blur sigmas, px) of the original replaces
    the styled image's own: the shapes a face recogniser reads (eye sockets, nose, mouth corners)
    come back while tones, colours and (with ``fine`` > 0) smoothed skin texture stay styled.
    Weighted by ``amount * mask`` (default: the face mask). ``inplace`` as in :func:`in_box`.
    """
    weights = regions.face if mask is None else mask

    def band(gray: Float) -> Float:
        return blur(gray, fine) - blur(gray, sigma)

    def detail(box: Box) -> Float:
        delta = band(luminance(original[box])) - band(luminance(styled[box]))
        return plus(styled[box], delta * (weights[box] * np.float32(amount)))

    return in_box(regions, styled, detail, inplace=inplace)


def redraw_features(styled: Float, source: Float, regions: Regions, amount: float = 1.0,
                    luma_only: bool = False, *, inplace: bool = False) -> Float:
    """Paste eyes, brows and lips from ``source`` (e.g. the original) into ``styled`` through their masks.

    With ``luma_only`` the styled colours stay and only the source's lightness is taken.
    ``inplace`` as in :func:`in_box`.
    """
    if amount <= 0:
        return styled

    def paste(box: Box) -> Float:
        alpha = regions.features[box] * np.float32(amount)
        if luma_only:
            return plus(styled[box], (luminance(source[box]) - luminance(styled[box])) * alpha)
        return mix(styled[box], source[box], alpha)

    return in_box(regions, styled, paste, inplace=inplace)


# --- face drawing ------------------------------------------------------------------------------

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_PARTS: dict[str, list[tuple[list[int], float]]] = {
    # landmark chain, stroke width as a fraction of the face width
    "eyelids": [([36, 37, 38, 39], 0.022), ([42, 43, 44, 45], 0.022)],
    "lower_lids": [([39, 40, 41, 36], 0.008), ([45, 46, 47, 42], 0.008)],
    "brows": [([17, 18, 19, 20, 21], 0.03), ([22, 23, 24, 25, 26], 0.03)],
    "mouth": [([60, 61, 62, 63, 64], 0.012)],
    "nose": [([32, 33, 34], 0.01)],
}


def faces_with_width(faces: list[Face], min_width: float) -> Iterator[tuple[npt.NDArray[np.float32], float]]:
    """(landmarks as float32, face width from jaw corner to jaw corner) of each face at least
    ``min_width`` pixels wide: the start of every landmark-guided drawing."""
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        fw = float(np.hypot(*(pts[16] - pts[0])))
        if fw >= min_width:
            yield pts, fw


def draw_features(image: Float, faces: list[Face], colour: Colour, opacity: float = 1.0,
                  parts: Sequence[str] = ("eyelids", "brows", "mouth"), weight: float = 1.0) -> Float:
    """Ink strokes along landmark chains (``eyelids``, ``lower_lids``, ``brows``, ``mouth``, ``nose``).

    Stroke widths follow each face's width times ``weight``; drawn anti-aliased on a mask of the
    face's box only, then inked over ``image`` in ``colour``.
    """
    out = image
    h, w = image.shape[:2]
    for pts, fw in faces_with_width(faces, 8):
        left, top = max(0, int(pts[:, 0].min() - 0.1 * fw)), max(0, int(pts[:, 1].min() - 0.2 * fw))
        right = min(w, int(pts[:, 0].max() + 0.1 * fw) + 1)
        bottom = min(h, int(pts[:, 1].max() + 0.1 * fw) + 1)
        if right <= left or bottom <= top:
            continue
        mask = np.zeros((bottom - top, right - left), np.uint8)
        for part in parts:
            for chain, width in _PARTS[part]:
                poly = np.round((pts[chain] - [left, top]) * (1 << _SHIFT)).astype(np.int32)
                thickness = max(1, round(width * weight * fw))
                cv2.polylines(mask, [poly], False, 255, thickness, cv2.LINE_AA, _SHIFT)
        box = (slice(top, bottom), slice(left, right))
        if out is image:
            out = image.copy()
        out[box] = towards(out[box], colour, to_float(mask) * np.float32(opacity))
    return out


def magnify_eyes(image: Float, faces: list[Face], amount: float) -> Float:
    """Enlarge each eye by a smooth local bulge (``amount`` 0.1 = about 10 % at the centre)."""
    out = image
    h, w = image.shape[:2]
    for face in faces:
        pts = np.asarray(face.landmarks, np.float32)
        for eye in (slice(36, 42), slice(42, 48)):
            centre = pts[eye].mean(axis=0)
            radius = 1.3 * float(np.hypot(*(pts[eye][3] - pts[eye][0])))
            if radius < 3:
                continue
            left, top = max(0, int(centre[0] - radius)), max(0, int(centre[1] - radius))
            right, bottom = min(w, int(centre[0] + radius) + 2), min(h, int(centre[1] + radius) + 2)
            if right <= left or bottom <= top:
                continue
            ys, xs = np.mgrid[top:bottom, left:right].astype(np.float32)
            dx, dy = xs - centre[0], ys - centre[1]
            r2 = (dx * dx + dy * dy) / np.float32(radius * radius)
            pull = 1.0 - np.float32(amount) * np.clip(1.0 - r2, 0.0, 1.0) ** 2
            map_x = f32(centre[0] + dx * pull)
            map_y = f32(centre[1] + dy * pull)
            if out is image:
                out = image.copy()
            out[top:bottom, left:right] = f32(cv2.remap(out, map_x, map_y, cv2.INTER_LINEAR,
                                                        borderMode=cv2.BORDER_REFLECT))
    return out


def smooth_skin(image: Float, regions: Regions, sigma: float, amount: float = 1.0, *,
                inplace: bool = False) -> Float:
    """Blur the face's skin (skin mask: face minus features, skin-coloured) by ``sigma``; the
    features and the face outline stay sharp. ``inplace`` as in :func:`in_box`."""
    if regions.masks is None:
        return image
    skin = f32(regions.masks.skin)

    def soften(box: Box) -> Float:
        return mix(image[box], blur(image[box], sigma), skin[box] * np.float32(amount))

    return in_box(regions, image, soften, inplace=inplace)


def soften_face(gray: Float, regions: Regions, sigma: float, amount: float = 1.0) -> Float:
    """``gray`` with skin texture (wrinkles, pores) blurred away on the face, for cleaner face lines."""

    def soften(box: Box) -> Float:
        weights = regions.face[box] * (1.0 - regions.features[box]) * np.float32(amount)
        return mix(gray[box], blur(gray[box], sigma), weights)

    return in_box(regions, gray, soften)


