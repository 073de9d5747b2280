"""Face retouch through landmark masks: HD detail, beautify (skin tone, eyes) and skin smoothing.

All work happens on each face's region (the feathered face mask's bounding box), in float32
0..255; pixels outside the masks are left exactly as they were.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.errors import InternalError, ParameterOutOfRange
from restyle.faces.masks import CropMasks, crop_masks
from restyle.faces.types import Face


def _check(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ParameterOutOfRange(
            f"The retouch strength {name} must be between 0 and 1, not {value}.", param=name
        )
    return float(value)


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones run on a copy downscaled by about sigma / 3 (the result is smooth)."""
    factor = int(sigma // 3)
    h, w = x.shape[:2]
    if factor < 2 or min(h, w) < 4 * factor:
        blurred: np.ndarray = cv2.GaussianBlur(x, (0, 0), max(0.5, sigma))
        return blurred
    small = cv2.resize(x, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    up: np.ndarray = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return up


def _smooth(crop: np.ndarray, skin: np.ndarray, strength: float, width: float) -> np.ndarray:
    """Edge-preserving smoothing (guided filter) blended in by ``strength`` within the skin."""
    # The filter runs on a copy where the face is at most 256 px wide; its output is smooth skin.
    scale = min(1.0, 256.0 / max(width, 1.0))
    h, w = crop.shape[:2]
    small = (
        crop
        if scale == 1.0
        else cv2.resize(
            crop, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    )
    radius = max(2, round(0.02 * width * scale))
    guide = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)  # a grey guide is ~5x faster than a colour one
    filtered = cv2.ximgproc.guidedFilter(guide, small, radius, ((0.04 + 0.08 * strength) * 255.0) ** 2)
    if scale != 1.0:
        filtered = cv2.resize(filtered, (w, h), interpolation=cv2.INTER_LINEAR)
    smoothed: np.ndarray = crop + (strength * skin)[..., None] * (filtered - crop)
    return smoothed


def _beautify(
    crop: np.ndarray, skin: np.ndarray, eyes: np.ndarray, strength: float, width: float
) -> np.ndarray:
    """Even the skin tone (pull colour towards its local mean), lift skin and eyes slightly."""
    local_mean = _blur(crop, 0.06 * width)
    luma = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None]
    mean_luma = cv2.cvtColor(local_mean, cv2.COLOR_RGB2GRAY)[..., None]
    # Evening: replace the pixel's colour deviation from its neighbourhood, keep its luminance detail.
    evened = local_mean + (luma - mean_luma)
    out = crop + (0.5 * strength * skin)[..., None] * (evened - crop)
    # Brightening: a gentle lift that saturates towards white (no clipping of highlights).
    lift = (255.0 - out) * 0.12
    brightened: np.ndarray = out + (strength * skin + 0.6 * strength * eyes)[..., None] * lift
    return brightened


def _hd(
    crop: np.ndarray, features: np.ndarray, face: np.ndarray, strength: float, width: float
) -> np.ndarray:
    """Unsharp mask on eyes, brows and lips; local contrast over the whole face.

    Both work on luminance only, added equally to the three channels (per-channel sharpening
    leaves coloured fringes around dark features), and the added detail is soft-limited so that
    strong settings do not ring into halos.
    """
    luma = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    fine = _soft_limit(luma - _blur(luma, 0.01 * width), HD_FINE_LIMIT)
    broad = _soft_limit(luma - _blur(luma, 0.06 * width), HD_BROAD_LIMIT)
    detail = (1.2 * strength * features) * fine + (0.35 * strength * face) * broad
    sharpened: np.ndarray = crop + detail[..., None]
    return sharpened


HD_FINE_LIMIT = 24.0  # largest luminance step (0..255) the HD sharpening adds, approached smoothly
HD_BROAD_LIMIT = 16.0


def _soft_limit(x: np.ndarray, limit: float) -> np.ndarray:
    """``x`` unchanged when small, approaching +-``limit`` smoothly when large."""
    limited: np.ndarray = limit * np.tanh(x / limit)
    return limited


def _retouch_face(
    image: np.ndarray, masks: CropMasks, width: float, hd: float, beautify: float, smooth: float
) -> None:
    region = masks.face.region
    left, top, right, bottom = region
    if right <= left or bottom <= top:
        return
    original = image[top:bottom, left:right]
    crop = original.astype(np.float32)
    if smooth > 0 or beautify > 0:
        if masks.skin is None:
            raise InternalError("The skin mask is needed for beautify and smooth but was not computed.")
        skin = masks.skin.within(region)
        if smooth > 0:
            crop = _smooth(crop, skin, smooth, width)
        if beautify > 0:
            crop = _beautify(crop, skin, masks.eyes.within(region), beautify, width)
    if hd > 0:
        features = np.maximum(
            np.maximum(masks.eyes.within(region), masks.brows.within(region)), masks.lips.within(region)
        )
        crop = _hd(crop, features, masks.face.values, hd, width)
    image[top:bottom, left:right] = np.clip(crop + 0.5, 0, 255).astype(np.uint8)


def retouch(
    image: np.ndarray, faces: list[Face], *, hd: float = 0.4, beautify: float = 0.3, smooth: float = 0.0
) -> np.ndarray:
    """Retouch every face of ``image`` (RGB uint8); strengths are in 0..1.

    ``hd`` sharpens eyes, brows and lips and adds local contrast to the face; ``beautify`` evens
    and brightens skin and brightens the eyes slightly; ``smooth`` smooths skin while keeping edges.
    With all strengths 0 (or no faces) the input array itself is returned unchanged.
    """
    hd, beautify, smooth = _check("hd", hd), _check("beautify", beautify), _check("smooth", smooth)
    if not faces or (hd == 0 and beautify == 0 and smooth == 0):
        return image
    out = image.copy()
    shape = (int(image.shape[0]), int(image.shape[1]))
    need_skin = beautify > 0 or smooth > 0
    for face in faces:
        masks = crop_masks(shape, face, out if need_skin else None)
        width = float(np.hypot(*(face.landmarks[16] - face.landmarks[0]))) or float(face.width)
        _retouch_face(out, masks, width, hd, beautify, smooth)
    return out
