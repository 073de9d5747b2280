"""Soft region masks built from the 68 landmarks: face, skin, eyes, brows, lips, head.

Every mask is float32 HxW in [0, 1] with edges feathered in proportion to the face size.
To stay cheap, each face is drawn once on its own crop at a reduced "working" scale (face about
112 px wide), blurred there and resized up; the full-size masks only receive the crops.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import cv2
import numpy as np

from restyle.errors import InternalError
from restyle.faces.geometry import BROW_L, BROW_R, EYE_L, EYE_R, LIPS_OUTER, FaceGeometry
from restyle.faces.skin import skin_probability
from restyle.faces.types import Face

_WORK_WIDTH = 112.0  # face width at the working scale
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_EPS = 1.0 / 512.0  # below this a mask value counts as zero
_KINDS = ("face", "skin", "eyes", "brows", "lips", "head")


@dataclass
class MaskPatch:
    """A mask known only on ``region`` = (left, top, right, bottom) of the image; zero elsewhere."""

    region: tuple[int, int, int, int]
    values: np.ndarray  # float32, (bottom - top, right - left)

    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the region, for indexing the full image."""
        left, top, right, bottom = self.region
        return slice(top, bottom), slice(left, right)

    def within(self, region: tuple[int, int, int, int]) -> np.ndarray:
        """The mask on ``region`` of the image, zero outside this patch."""
        left, top, right, bottom = region
        out = np.zeros((bottom - top, right - left), np.float32)
        pl, pt, pr, pb = self.region
        x0, y0, x1, y1 = max(left, pl), max(top, pt), min(right, pr), min(bottom, pb)
        if x1 > x0 and y1 > y0:
            out[y0 - top : y1 - top, x0 - left : x1 - left] = self.values[
                y0 - pt : y1 - pt, x0 - pl : x1 - pl
            ]
        return out

    def paste_max(self, full: np.ndarray) -> None:
        """Combine into the full-size mask ``full`` in place by pixel-wise max."""
        if self.values.size:
            target = full[self.slices()]
            np.maximum(target, self.values, out=target)


@dataclass
class CropMasks:
    """The masks of one face; each patch lies inside the face's crop ``region``."""

    region: tuple[int, int, int, int]
    face: MaskPatch
    eyes: MaskPatch
    brows: MaskPatch
    lips: MaskPatch
    head: MaskPatch
    skin: MaskPatch | None = None

    def slices(self) -> tuple[slice, slice]:
        """Row and column slices of the crop region, for indexing the full image."""
        left, top, right, bottom = self.region
        return slice(top, bottom), slice(left, right)

    def on_crop(self, kind: str) -> np.ndarray:
        """The mask ``kind`` (face, eyes, brows, lips, head, skin) over the whole crop region."""
        patch: MaskPatch | None = getattr(self, kind)
        if patch is None:
            raise InternalError(f"The {kind} mask was not computed; pass the image to crop_masks.")
        return patch.within(self.region)


@dataclass
class FaceMasks:
    """Masks of all faces of an image combined (pixel-wise max), float32 HxW in [0, 1].

    ``crops`` keeps each face's crop masks so callers can work on face regions only.
    """

    face: np.ndarray
    skin: np.ndarray
    eyes: np.ndarray
    brows: np.ndarray
    lips: np.ndarray
    head: np.ndarray
    crops: list[CropMasks] = field(default_factory=list)


def _scaled(points: np.ndarray, factor: float) -> np.ndarray:
    centre = points.mean(axis=0, keepdims=True)
    scaled: np.ndarray = (centre + (points - centre) * factor).astype(np.float32)
    return scaled


_CACHED = 16  # geometry-only crop masks kept (the guard and the engine ask for the same ones)
_cache: OrderedDict[tuple[object, ...], CropMasks] = OrderedDict()
_cache_lock = threading.Lock()


def crop_masks(shape: tuple[int, int], face: Face, image: np.ndarray | None = None) -> CropMasks:
    """Draw the masks of one face on its crop; ``skin`` is filled only when ``image`` is given.

    Without ``image`` the masks depend on the geometry only: the last few are kept and shared,
    their arrays read-only.
    """
    if image is not None:
        return _draw_crop_masks(shape, face, image)
    key = (int(shape[0]), int(shape[1]), face.box, np.asarray(face.landmarks, np.float32).tobytes())
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    masks = _draw_crop_masks(shape, face, None)
    for part in (masks.face, masks.eyes, masks.brows, masks.lips, masks.head):
        part.values.setflags(write=False)
    with _cache_lock:
        _cache[key] = masks
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return masks


def _draw_crop_masks(shape: tuple[int, int], face: Face, image: np.ndarray | None) -> CropMasks:
    """:func:`crop_masks` drawn afresh.

    Steps: 1. crop region and working scale; 2. draw polygons at that scale; 3. feather with a
    Gaussian blur in proportion to the face width; 4. skin = face minus features, times skin colour;
    5. resize each crop up to the region size.
    """
    geo = FaceGeometry.of(face)
    region = geo.region(shape)
    left, top, right, bottom = region
    cw, ch = right - left, bottom - top
    if cw <= 0 or ch <= 0:
        empty = MaskPatch(region, np.zeros((0, 0), np.float32))
        return CropMasks(region, empty, empty, empty, empty, empty, empty if image is not None else None)
    scale = min(1.0, _WORK_WIDTH / geo.width)
    ws, hs = max(1, round(cw * scale)), max(1, round(ch * scale))
    sx, sy = ws / cw, hs / ch
    unit = geo.width * scale  # face width in working pixels

    def to_work(points: np.ndarray) -> np.ndarray:
        work = (points - np.array([left, top], np.float32) + 0.5) * np.array([sx, sy], np.float32) - 0.5
        fixed: np.ndarray = np.round(work * (1 << _SHIFT)).astype(np.int32)
        return fixed

    def canvas() -> np.ndarray:
        return np.zeros((hs, ws), np.float32)

    def feather(mask: np.ndarray, rel_sigma: float) -> np.ndarray:
        blurred: np.ndarray = cv2.GaussianBlur(mask, (0, 0), max(0.5, rel_sigma * unit))
        return blurred

    pts = geo.points
    face_m = canvas()
    cv2.fillPoly(face_m, [to_work(geo.face_polygon())], 1.0, cv2.LINE_8, _SHIFT)
    eyes_m = canvas()
    for eye in (EYE_R, EYE_L):
        cv2.fillPoly(eyes_m, [to_work(_scaled(pts[eye], 1.35))], 1.0, cv2.LINE_8, _SHIFT)
    cv2.polylines(
        eyes_m,
        [to_work(_scaled(pts[e], 1.35)) for e in (EYE_R, EYE_L)],
        True,
        1.0,
        max(1, round(0.03 * unit)),
        cv2.LINE_8,
        _SHIFT,
    )
    brows_m = canvas()
    cv2.polylines(
        brows_m,
        [to_work(pts[b]) for b in (BROW_R, BROW_L)],
        False,
        1.0,
        max(1, round(0.06 * unit)),
        cv2.LINE_8,
        _SHIFT,
    )
    lips_m = canvas()
    cv2.fillPoly(lips_m, [to_work(_scaled(pts[LIPS_OUTER], 1.1))], 1.0, cv2.LINE_8, _SHIFT)
    head_m = canvas()
    (cx, cy), (a, b), angle = geo.head_ellipse()
    centre = to_work(np.array([[cx, cy]], np.float32))[0]
    axes = (round(a * sx * (1 << _SHIFT)), round(b * sy * (1 << _SHIFT)))
    cv2.ellipse(head_m, (int(centre[0]), int(centre[1])), axes, angle, 0, 360, 1.0, -1, cv2.LINE_8, _SHIFT)

    face_m = feather(face_m, 0.035)
    eyes_m, brows_m, lips_m = feather(eyes_m, 0.02), feather(brows_m, 0.02), feather(lips_m, 0.02)
    head_m = np.maximum(feather(head_m, 0.06), face_m)
    skin_m = None
    if image is not None:
        crop = cv2.resize(image[top:bottom, left:right], (ws, hs), interpolation=cv2.INTER_AREA)
        features = np.minimum(eyes_m + brows_m + lips_m, 1.0)
        cheeks = to_work(np.stack([(pts[2] + pts[31]) / 2, (pts[14] + pts[35]) / 2])) / float(1 << _SHIFT)
        colour = skin_probability(crop, cheeks, radius=0.07 * unit, inside=face_m)
        skin_m = face_m * (1.0 - features) * feather(colour, 0.01)

    def patch(mask: np.ndarray) -> MaskPatch:
        np.clip(mask, 0.0, 1.0, out=mask)
        rows = np.flatnonzero(mask.max(axis=1) > _EPS)
        cols = np.flatnonzero(mask.max(axis=0) > _EPS)
        if not len(rows) or not len(cols):
            return MaskPatch((left, top, left, top), np.zeros((0, 0), np.float32))
        # Work pixel range -> crop pixel range (pixel centres: x_work = (x + 0.5) * sx - 0.5).
        x0 = max(0, int(np.floor((cols[0] - 0.5) / sx)))
        x1 = min(cw, int(np.ceil((cols[-1] + 1.5) / sx)))
        y0 = max(0, int(np.floor((rows[0] - 0.5) / sy)))
        y1 = min(ch, int(np.ceil((rows[-1] + 1.5) / sy)))
        if (ws, hs) == (cw, ch):
            values = np.ascontiguousarray(mask[y0:y1, x0:x1])
        else:
            matrix = np.array(
                [[sx, 0.0, (x0 + 0.5) * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], np.float64
            )
            values = cv2.warpAffine(
                mask,
                matrix,
                (x1 - x0, y1 - y0),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
        return MaskPatch((left + x0, top + y0, left + x1, top + y1), values)

    return CropMasks(
        region,
        patch(face_m),
        patch(eyes_m),
        patch(brows_m),
        patch(lips_m),
        patch(head_m),
        None if skin_m is None else patch(skin_m),
    )


def _full(shape: tuple[int, int], crop: CropMasks, kind: str) -> np.ndarray:
    out = np.zeros(shape[:2], np.float32)
    part: MaskPatch | None = getattr(crop, kind)
    if part is not None:
        part.paste_max(out)
    return out


def face_mask(shape: tuple[int, int], face: Face) -> np.ndarray:
    """Jaw line up to the brows, extended over the forehead."""
    return _full(shape, crop_masks(shape, face), "face")


def eyes_mask(shape: tuple[int, int], face: Face) -> np.ndarray:
    """Both eyes with their lids and lashes."""
    return _full(shape, crop_masks(shape, face), "eyes")


def brows_mask(shape: tuple[int, int], face: Face) -> np.ndarray:
    """Both eyebrows."""
    return _full(shape, crop_masks(shape, face), "brows")


def lips_mask(shape: tuple[int, int], face: Face) -> np.ndarray:
    """The lips (outer lip contour, slightly enlarged)."""
    return _full(shape, crop_masks(shape, face), "lips")


def head_mask(shape: tuple[int, int], face: Face) -> np.ndarray:
    """Approximate head: an ellipse around the face extended upward and sideways for hair."""
    return _full(shape, crop_masks(shape, face), "head")


def skin_mask(image: np.ndarray, face: Face) -> np.ndarray:
    """Face skin: face region minus eyes, brows and lips, kept where the colour matches the cheeks."""
    shape = (int(image.shape[0]), int(image.shape[1]))
    return _full(shape, crop_masks(shape, face, image), "skin")


def build_masks(image: np.ndarray, faces: list[Face]) -> FaceMasks:
    """All masks for all ``faces`` of ``image`` (RGB uint8), combined by pixel-wise max."""
    shape = (int(image.shape[0]), int(image.shape[1]))
    full = {kind: np.zeros(shape, np.float32) for kind in _KINDS}
    crops = [crop_masks(shape, face, image) for face in faces]
    for crop in crops:
        for kind in _KINDS:
            part: MaskPatch | None = getattr(crop, kind)
            if part is not None:
                part.paste_max(full[kind])
    return FaceMasks(crops=crops, **full)
