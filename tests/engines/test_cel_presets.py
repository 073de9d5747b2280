"""The cel presets read as drawings, not as filtered photos (issue 10, item 4).

anime, colorful_cartoon and retro_comic (before its halftone) are flat colour regions with dark
outlines; fairy_tale_3d is a smooth render. Measured on the bundled astronaut and Grace Hopper
portraits, at their own size and at about one megapixel:

- whole-image grey SSIM to the input at most 0.7;
- cel coverage: the share of pixels whose colour (after a Gaussian blur of sigma 1, quantised to
  32 levels per channel) is one of the output's 24 most frequent colours;
- photo texture (mean absolute difference to a sigma-2 blur, away from the output's edges)
  reduced by at least 70 % against the input.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from restyle.engines.classic.comic import comic_cel
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.engine import load_renderer
from restyle.faces import detect_faces
from restyle.faces.types import Face

CEL = ["anime", "colorful_cartoon", "retro_comic"]
ALL = [*CEL, "fairy_tale_3d"]
Photo = tuple[np.ndarray, list[Face]]


def _context(image: np.ndarray, faces: list[Face], seed: int = 5, detail: float = 0.0) -> RenderContext:
    return RenderContext(image=image, faces=faces, rng=np.random.default_rng(seed), detail=detail)


def render(style: str, photo: Photo, seed: int = 5, detail: float = 0.0) -> np.ndarray:
    """The preset's output; for retro_comic the cel before its halftone and paper."""
    ctx = _context(*photo, seed=seed, detail=detail)
    if style == "retro_comic":
        out, _ = comic_cel(ctx)
        return np.asarray(np.clip(out * 255.0 + 0.5, 0, 255), np.uint8)
    return load_renderer(style)(ctx)


def _gray(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(_gray(a), _gray(b), data_range=255))


def coverage(image: np.ndarray, top: int = 24) -> float:
    q = (cv2.GaussianBlur(image, (0, 0), 1.0) // 8).astype(np.int32)
    keys = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    counts = np.sort(np.bincount(keys.ravel()))[::-1]
    return float(counts[:top].sum() / counts.sum())


def texture_reduction(photo: np.ndarray, out: np.ndarray) -> float:
    edges = cv2.Canny(cv2.GaussianBlur(_gray(out), (0, 0), 1.0), 40, 100)
    away = cv2.dilate(edges, np.ones((7, 7), np.uint8)) == 0

    def texture(image: np.ndarray) -> float:
        f = image.astype(np.float32)
        return float(np.abs(f - cv2.GaussianBlur(f, (0, 0), 2.0)).mean(axis=2)[away].mean())

    return 1.0 - texture(out) / texture(photo)


def _with_faces(image: np.ndarray) -> Photo:
    image = np.ascontiguousarray(image)
    faces = detect_faces(image)
    assert faces, "no face found in the sample"
    return image, faces


@pytest.fixture(scope="module")
def photos(astronaut: np.ndarray, grace_hopper: np.ndarray) -> dict[str, Photo]:
    big = cv2.resize(grace_hopper, (880, round(880 * grace_hopper.shape[0] / grace_hopper.shape[1])),
                     interpolation=cv2.INTER_CUBIC)
    return {"astronaut": _with_faces(astronaut), "grace": _with_faces(grace_hopper), "grace_1mp": _with_faces(big)}


@pytest.fixture(scope="module")
def rendered(photos: dict[str, Photo]) -> dict[tuple[str, str], np.ndarray]:
    return {(style, name): render(style, photo) for style in ALL for name, photo in photos.items()}


@pytest.mark.parametrize("style", ALL)
@pytest.mark.parametrize("name", ["astronaut", "grace", "grace_1mp"])
def test_far_from_the_photo(style: str, name: str, photos: dict[str, Photo],
                            rendered: dict[tuple[str, str], np.ndarray]) -> None:
    photo = photos[name][0]
    out = rendered[style, name]
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert ssim(photo, out) <= 0.7
    assert texture_reduction(photo, out) >= 0.7


@pytest.mark.parametrize("style", CEL)
def test_flat_colour_regions(style: str, photos: dict[str, Photo], rendered: dict[tuple[str, str], np.ndarray]) -> None:
    # about a megapixel: at least 90 % of the pixels in the 24 most frequent colours (a photo: ~0.5)
    assert coverage(rendered[style, "grace_1mp"]) >= 0.9
    assert coverage(photos["grace_1mp"][0]) < 0.6
    # at 512 px the outlines and region edges are a larger share of the picture
    for name in ("astronaut", "grace"):
        assert coverage(rendered[style, name]) >= 0.78, name


def test_outlines_are_dark_and_crisp(rendered: dict[tuple[str, str], np.ndarray]) -> None:
    for style in CEL:
        out = rendered[style, "grace_1mp"]
        luma = _gray(out)
        assert (luma < 60).mean() > 0.03, style  # ink outlines (and dark fills) are there
        # crisp: few pixels lie between ink and their neighbours (no soft photo gradients)
        grad = cv2.morphologyEx(luma, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        assert (grad == 0).mean() > 0.7, style


@pytest.mark.parametrize("style", ALL)
def test_deterministic_for_a_seed(style: str, photos: dict[str, Photo],
                                  rendered: dict[tuple[str, str], np.ndarray]) -> None:
    assert render(style, photos["astronaut"]).tobytes() == rendered[style, "astronaut"].tobytes()


@pytest.mark.parametrize("style", ALL)
def test_detail_redraws_only_the_face(style: str, photos: dict[str, Photo],
                                      rendered: dict[tuple[str, str], np.ndarray]) -> None:
    image, faces = photos["grace"]
    base = rendered[style, "grace"]
    detailed = render(style, photos["grace"], detail=1.0)
    changed = np.abs(detailed.astype(np.int16) - base).max(axis=2) > 0
    left, top, right, bottom = faces[0].box
    w, h = right - left, bottom - top
    inside = np.zeros_like(changed)
    inside[max(0, top - h // 2):bottom + h // 4, max(0, left - w // 4):right + w // 4] = True
    assert changed[inside].mean() > 0.05  # more tones, lines or features on the face
    assert changed[~inside].mean() < 0.002  # the rest of the picture stays as it was


@pytest.mark.parametrize("style", CEL)
def test_skin_keeps_the_persons_tone(style: str, photos: dict[str, Photo],
                                     rendered: dict[tuple[str, str], np.ndarray]) -> None:
    image, faces = photos["grace"]
    left, top, right, bottom = faces[0].box
    # the same person with much darker skin: the head darkened, the rest of the picture unchanged
    head = np.zeros(image.shape[:2], np.float32)
    centre = ((left + right) // 2, (top + bottom) // 2)
    cv2.ellipse(head, centre, ((right - left) * 3 // 4, (bottom - top)), 0, 0, 360, 1.0, -1)
    head = cv2.GaussianBlur(head, (0, 0), 8.0)[..., None]
    darker = np.ascontiguousarray((image * (1.0 - 0.55 * head)).astype(np.uint8))
    out = render(style, (darker, faces))
    h, w = bottom - top, right - left
    cheek = (slice(top + h // 3, bottom - h // 3), slice(left + w // 4, right - w // 4))
    assert _gray(out)[cheek].mean() < _gray(rendered[style, "grace"])[cheek].mean() - 15  # a fixed ramp: ~0
