"""The quality bench's style metrics on synthetic images whose answers are known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.identity_probe import iou, matches, rank1
from bench.style_metrics import (
    cel_coverage,
    face_ssim_excess,
    outline_mask,
    region_ssim,
    texture,
    texture_reduction,
    whole_ssim,
)


def photo_like(seed: int = 1, size: int = 128) -> np.ndarray:
    """Smooth gradients plus fine noise: many colours and photo-like texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    base = np.stack([x * 1.5, y * 1.5, (x + y) * 0.8], axis=-1) + 30
    noisy = base + rng.normal(0, 12, base.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def cel_like(size: int = 128) -> np.ndarray:
    """Four flat colour regions with a dark outline between them."""
    image = np.zeros((size, size, 3), np.uint8)
    half = size // 2
    image[:half, :half] = (230, 190, 160)
    image[:half, half:] = (60, 120, 200)
    image[half:, :half] = (90, 170, 90)
    image[half:, half:] = (240, 240, 220)
    image[half - 1 : half + 1, :] = (20, 20, 20)
    image[:, half - 1 : half + 1] = (20, 20, 20)
    return image


def test_whole_ssim_is_one_for_identical_images_and_drops_with_change() -> None:
    image = photo_like()
    assert whole_ssim(image, image) == pytest.approx(1.0)
    assert whole_ssim(image, cel_like()) < 0.5


def test_whole_ssim_refuses_images_of_different_sizes() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        whole_ssim(photo_like(size=64), photo_like(size=128))


def test_face_excess_is_high_where_a_photo_face_is_pasted_onto_a_drawing() -> None:
    photo = photo_like()
    drawn = cel_like()
    box = (32, 32, 96, 96)
    pasted = drawn.copy()
    pasted[32:96, 32:96] = photo[32:96, 32:96]
    whole = whole_ssim(photo, pasted)
    assert region_ssim(photo, pasted, box) == pytest.approx(1.0)
    assert face_ssim_excess(photo, pasted, box) == pytest.approx(1.0 - whole)
    assert face_ssim_excess(photo, pasted, box) > 0.3
    # a face drawn like the rest scores near zero (here: below, as the drawing ignores the photo)
    assert face_ssim_excess(photo, drawn, box) < 0.1


def test_region_ssim_refuses_a_region_outside_the_image() -> None:
    with pytest.raises(ValueError, match="smaller than"):
        region_ssim(photo_like(), photo_like(), (500, 500, 600, 600))


def test_cel_coverage_tells_flat_colours_from_a_photo() -> None:
    assert cel_coverage(cel_like()) > 0.95
    assert cel_coverage(photo_like()) < 0.3
    # the blur and quantisation forgive a little noise on flat colours
    rng = np.random.default_rng(2)
    noisy = np.clip(cel_like().astype(np.int16) + rng.integers(-2, 3, (128, 128, 3)), 0, 255).astype(np.uint8)
    assert cel_coverage(noisy) > 0.9


def test_cel_coverage_counts_only_the_top_colours() -> None:
    stripes = np.zeros((64, 64, 3), np.uint8)
    for i in range(32):  # 32 distinct colours in equal stripes of two columns
        stripes[:, 2 * i : 2 * i + 2] = (i * 8, 255 - i * 8, 128)
    assert cel_coverage(stripes, sigma=0.01) == pytest.approx(24 / 32, abs=0.02)


def test_outline_mask_marks_strong_edges_and_their_neighbourhood_only() -> None:
    mask = outline_mask(cel_like())
    assert mask[62, 10] and mask[60, 10] and mask[64, 10]  # the outline and 2 px either side
    assert not mask[58, 10] and not mask[70, 10]
    assert not mask[20, 20] and not mask[100, 100]  # inside flat regions


def test_texture_reduction_is_zero_for_the_photo_itself_and_high_for_a_flat_render() -> None:
    photo = photo_like()
    assert texture_reduction(photo, photo) == pytest.approx(0.0)
    flat = cv2.GaussianBlur(photo, (0, 0), 6)
    assert texture_reduction(photo, flat) > 0.7
    # added noise or hatching reads as more texture than the photo: negative reduction
    rng = np.random.default_rng(3)
    noisier = np.clip(photo.astype(np.int16) + rng.integers(-40, 41, photo.shape), 0, 255).astype(np.uint8)
    assert texture_reduction(photo, noisier) < 0


def test_texture_ignores_masked_pixels() -> None:
    image = np.full((32, 32, 3), 128, np.uint8)
    image[::2, :] = 0  # strong stripes in the top half only after masking
    keep = np.zeros((32, 32), bool)
    assert texture(image, keep) == 0.0
    assert texture(image) > 10


def test_box_matching_by_overlap_or_by_centre() -> None:
    label = (100, 100, 200, 200)
    assert iou(label, label) == pytest.approx(1.0)
    assert iou(label, (300, 300, 400, 400)) == 0.0
    assert matches((110, 110, 210, 210), label)
    assert matches((130, 130, 170, 170), label)  # small box at the same centre: IoU 0.16
    assert not matches((190, 190, 290, 290), label)


def test_rank1_needs_the_own_identity_nearest() -> None:
    own = np.zeros(128)
    other = np.ones(128) * 0.1
    gallery = {"a": [own, own + 0.5], "b": [other]}
    assert rank1(own + 0.01, "a", gallery)
    assert not rank1(other, "a", gallery)
