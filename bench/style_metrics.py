"""Style metrics of the quality bench (issue 10, items 3 and 4): pure functions on RGB uint8 images.

- :func:`whole_ssim`: SSIM of the whole output to the input, on grey (lower = further from the photo);
- :func:`face_ssim_excess`: SSIM of a face region minus the whole image's (near 0 = the face is as
  stylized as the rest; large = a photo face pasted onto a drawing);
- :func:`cel_coverage`: share of pixels covered by the most frequent colours after a light blur and a
  coarse quantisation (flat cel colours score near 1, photos about 0.5);
- :func:`texture_reduction`: how much of the photo's fine texture is gone inside regions, away from
  the output's outlines (1 - output texture / input texture on the same pixels).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

Box = tuple[int, int, int, int]  # left, top, right, bottom

MIN_SSIM_SIDE = 7  # structural_similarity's default window


def grey(image: np.ndarray) -> np.ndarray:
    """Grey uint8 of an RGB (or already grey) uint8 image."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def whole_ssim(reference: np.ndarray, output: np.ndarray) -> float:
    """SSIM of ``output`` to ``reference`` on grey, as skimage's ``structural_similarity``."""
    if reference.shape[:2] != output.shape[:2]:
        raise ValueError(f"Images differ in size: {reference.shape[:2]} and {output.shape[:2]}.")
    return float(structural_similarity(grey(reference), grey(output), data_range=255))  # type: ignore[no-untyped-call]


def clip_box(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` clipped to an image of ``shape`` (height, width, ...)."""
    h, w = shape[:2]
    left, top, right, bottom = box
    return max(0, left), max(0, top), min(w, right), min(h, bottom)


def region_ssim(reference: np.ndarray, output: np.ndarray, box: Box) -> float:
    """SSIM of the ``box`` region of ``output`` to the same region of ``reference`` (grey)."""
    left, top, right, bottom = clip_box(box, reference.shape)
    if right - left < MIN_SSIM_SIDE or bottom - top < MIN_SSIM_SIDE:
        raise ValueError(f"Region {box} is smaller than {MIN_SSIM_SIDE} px inside the image.")
    crop_in = grey(reference)[top:bottom, left:right]
    crop_out = grey(output)[top:bottom, left:right]
    return float(structural_similarity(crop_in, crop_out, data_range=255))  # type: ignore[no-untyped-call]


def face_ssim_excess(reference: np.ndarray, output: np.ndarray, box: Box, whole: float | None = None) -> float:
    """Face-region SSIM minus whole-image SSIM (pass ``whole`` to reuse an already computed one)."""
    overall = whole_ssim(reference, output) if whole is None else whole
    return region_ssim(reference, output, box) - overall


def cel_coverage(image: np.ndarray, top: int = 24, sigma: float = 1.0, levels: int = 32) -> float:
    """Fraction of pixels covered by the ``top`` most frequent colours.

    The image is blurred (Gaussian, ``sigma``) and quantised to ``levels`` per channel first, so a
    flat region with a little antialiasing or JPEG noise still counts as one colour.
    """
    rgb = image if image.ndim == 3 else np.stack([image] * 3, axis=-1)
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma, sigmaY=sigma)
    step = 256 // levels
    q = (blurred // step).astype(np.int64)
    codes = (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]
    counts = np.bincount(codes.ravel(), minlength=levels**3)
    largest = np.sort(counts)[::-1][:top]
    return float(largest.sum() / codes.size)


def outline_mask(image: np.ndarray, low: int = 100, high: int = 200, radius: int = 2) -> np.ndarray:
    """True near strong edges of ``image`` (Canny ``low``/``high``, dilated by ``radius`` px)."""
    edges = cv2.Canny(grey(image), low, high)
    size = 2 * radius + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(edges, kernel) > 0


def texture(image: np.ndarray, keep: np.ndarray | None = None, sigma: float = 2.0) -> float:
    """Mean absolute difference of grey ``image`` to its Gaussian blur (``sigma``), over ``keep``."""
    g = grey(image).astype(np.float32)
    detail = np.abs(g - cv2.GaussianBlur(g, (0, 0), sigmaX=sigma, sigmaY=sigma))
    if keep is None:
        return float(detail.mean())
    if not keep.any():
        return 0.0
    return float(detail[keep].mean())


def texture_reduction(reference: np.ndarray, output: np.ndarray) -> float:
    """1 - texture(output) / texture(reference), both away from the output's outlines.

    The outlines a style draws on purpose are masked out (Canny of the output, dilated by 2 px), so
    what is left measures photo texture inside the regions. 1 = all gone, 0 = unchanged, negative =
    more texture than the photo (noise, hatching, halftone dots).
    """
    if reference.shape[:2] != output.shape[:2]:
        raise ValueError(f"Images differ in size: {reference.shape[:2]} and {output.shape[:2]}.")
    keep = ~outline_mask(output)
    before = texture(reference, keep)
    if before <= 1e-9:
        return 0.0
    return 1.0 - texture(output, keep) / before
