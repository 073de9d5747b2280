"""Person segmentation: GrabCut seeded by the faces, refined to the image's edges, cached per image."""

from __future__ import annotations

import contextlib
import math
import threading
import zlib
from typing import Any

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.faces.geometry import FaceGeometry
from restyle.faces.types import Face

_GRABCUT_PIXELS = 12_000  # about 110x110: GrabCut's cost grows quickly with the pixel count
_GRABCUT_ITERATIONS = 2
_REFINE_LONG_SIDE = 512  # guided-filter refinement size; the mask is smooth beyond it

# --- segmentation -------------------------------------------------------------------------------


def _trimap(shape: tuple[int, int], faces: list[Face], scale: float) -> np.ndarray:
    """GrabCut seeds at work scale: face sure foreground, head/torso probable, borders background."""
    h, w = shape
    trimap = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    border = max(2, round(0.03 * min(h, w)))
    trimap[:border], trimap[:, :border], trimap[:, -border:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    if not faces:
        cv2.ellipse(trimap, (w // 2, int(h * 0.6)), (int(w * 0.3), int(h * 0.45)), 0, 0, 360, cv2.GC_PR_FGD, -1)
        trimap[-border:] = np.where(trimap[-border:] == cv2.GC_PR_FGD, cv2.GC_PR_FGD, cv2.GC_BGD)
        return trimap
    bottom_keep = np.zeros(w, bool)
    sure: list[np.ndarray] = []
    regions: list[tuple[FaceGeometry, np.ndarray]] = []
    for number, face in enumerate(faces):
        geo = FaceGeometry.of(face)
        pts = geo.points * scale
        fw, fl = geo.width * scale, geo.length * scale
        right, down = geo.right, -geo.up
        chin = pts[8]
        centre = (pts[0] + pts[16]) / 2.0
        # beside the main head and above its shoulders is background, except for raised hands
        for side in ((-1.0, 1.0) if number == 0 else ()):
            near = centre + side * right * fw * 1.35
            far = centre + side * right * fw * 6.0
            bg = np.array([near - down * fl * 4.0, far - down * fl * 4.0, far + down * fl * 1.1,
                           near + down * fl * 1.1], np.float32)
            cv2.fillPoly(trimap, [np.round(bg).astype(np.int32)], cv2.GC_BGD)
        # neck and shoulders widen below the chin down to the image bottom
        torso = np.array([
            chin + right * fw * 0.35, chin + down * fl * 0.5 + right * fw * 0.45,
            chin + down * fl * 0.9 + right * fw * 1.2, chin + down * fl * 1.8 + right * fw * 1.7,
            chin + down * fl * 6.0 + right * fw * 2.0, chin + down * fl * 6.0 - right * fw * 2.0,
            chin + down * fl * 1.8 - right * fw * 1.7, chin + down * fl * 0.9 - right * fw * 1.2,
            chin + down * fl * 0.5 - right * fw * 0.45, chin - right * fw * 0.35,
        ], np.float32)
        regions.append((geo, torso))
        lo = max(0, int(chin[0] - 2.0 * fw))
        hi = min(w, int(chin[0] + 2.0 * fw) + 1)
        bottom_keep[lo:hi] = True
        inner = geo.face_polygon() * scale
        middle = inner.mean(axis=0)
        sure.append(np.round(middle + (inner - middle) * 0.8).astype(np.int32))
        neck = np.array([chin + down * fl * 0.1 + right * fw * 0.15, chin + down * fl * 0.45 + right * fw * 0.2,
                         chin + down * fl * 0.45 - right * fw * 0.2, chin + down * fl * 0.1 - right * fw * 0.15])
        sure.append(np.round(neck).astype(np.int32))
    for geo, torso in regions:
        (cx, cy), (a, b), angle = geo.head_ellipse()
        cv2.ellipse(trimap, (round(cx * scale), round(cy * scale)), (round(a * scale * 1.1), round(b * scale * 1.1)),
                    angle, 0, 360, cv2.GC_PR_FGD, -1)
        cv2.fillPoly(trimap, [np.round(torso).astype(np.int32)], cv2.GC_PR_FGD)
    trimap[-border:, ~bottom_keep] = cv2.GC_BGD
    cv2.fillPoly(trimap, sure, cv2.GC_FGD)
    return trimap


_cache_lock = threading.Lock()
_cache: dict[tuple[Any, ...], np.ndarray] = {}
_CACHE_SIZE = 2


def person_mask(image: np.ndarray, faces: list[Face]) -> np.ndarray:
    """Soft person mask (float32 HxW in 0..1) of an RGB uint8 portrait; see :func:`segment_person`.

    The last few masks are kept (keyed by the pixels' checksum and the face boxes), so the engine
    and a renderer asking for the same image's mask pay for one segmentation. Callers must not
    modify the returned array.
    """
    key = (image.shape, zlib.crc32(np.ascontiguousarray(image).data), tuple(f.box for f in faces))
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    mask = segment_person(image, faces)
    mask.setflags(write=False)
    with _cache_lock:
        while len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = mask
    return mask


def segment_person(image: np.ndarray, faces: list[Face]) -> np.ndarray:
    """Soft person mask (float32 HxW in 0..1) of an RGB uint8 portrait.

    Steps: 1. GrabCut on a ~110x110 copy seeded by the faces (face sure foreground, head and
    torso probable foreground, image borders background); 2. keep the regions touching a face;
    3. upsample to 512 px and snap edges to the image with a guided filter; 4. resize to full size.
    Without faces the seed is a centred ellipse.
    """
    h, w = image.shape[:2]
    scale = min(1.0, math.sqrt(_GRABCUT_PIXELS / float(h * w)))
    sw, sh = max(8, round(w * scale)), max(8, round(h * scale))
    scale_x = sw / w
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    trimap = _trimap((sh, sw), faces, scale_x)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(12345)  # GrabCut's k-means draws from OpenCV's global RNG
    with contextlib.suppress(cv2.error):  # too few seeds of one kind: keep the trimap itself
        cv2.grabCut(small, trimap, (0, 0, 1, 1), bgd, fgd, _GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    fg = ((trimap == cv2.GC_FGD) | (trimap == cv2.GC_PR_FGD)).astype(np.uint8)
    count, labels = cv2.connectedComponents(fg, connectivity=8)
    if count > 2:
        sure = labels[trimap == cv2.GC_FGD] if faces else labels[fg > 0]
        keep = np.unique(sure[sure > 0])
        if keep.size:
            fg = np.isin(labels, keep).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    refine = min(1.0, _REFINE_LONG_SIDE / max(h, w))
    rw, rh = max(8, round(w * refine)), max(8, round(h * refine))
    guide = cv2.cvtColor(cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    soft = cv2.resize(fg.astype(np.float32), (rw, rh), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(soft, (0, 0), max(1.0, rw / sw * 0.7))
    radius = max(2, round(rw / sw * 1.5))
    soft = cv2.ximgproc.guidedFilter(guide, soft, radius, 2e-3)
    if (rw, rh) != (w, h):
        soft = cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(soft, 0.0, 1.0).astype(np.float32)


def composite(front: np.ndarray, back: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``front`` over ``back`` (RGB uint8) through ``mask`` (float HxW 0..1)."""
    weight = ops.f32(np.clip(mask, 0.0, 1.0))
    # blendLinear normalises by the weight sum (1 here) and works on uint8 without temporaries
    return np.asarray(cv2.blendLinear(front, back, weight, ops.f32(1.0 - weight)), np.uint8)


