"""One preset (or baseline filter) over the photo set: render, then measure every labelled face and image.

Runs in a worker process of ``bench/quality.py``; the photos and the reference embeddings are handed
over to each spawned worker by :func:`init_worker`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from identity_probe import distance, matches, probe, rank1
from photos import Photo
from style_metrics import cel_coverage, face_ssim_excess, texture_reduction, whole_ssim

BASELINES = ("cv2.stylization", "cv2.pencilSketch", "kmeans8+edges")
THUMB = 180  # contact-sheet tile height

PHOTOS: list[Photo] = []
REFERENCES: dict[tuple[str, int], np.ndarray] = {}  # (photo id, face index) -> input embedding
GALLERY: dict[str, list[np.ndarray]] = {}  # person -> input embeddings
SHEET_PHOTOS: set[str] = set()


@dataclass
class FaceRow:
    """One labelled face under one preset."""

    preset: str
    photo: str
    face: int
    cases: frozenset[str]
    pipeline_found: bool | None  # None for baselines (no pipeline)
    redetected: bool
    distance: float | None
    rank1: bool
    style_steps: int
    blend_steps: int
    guard_applied: bool
    identity_lost: bool
    face_excess: float


@dataclass
class ImageRow:
    """One photo under one preset."""

    preset: str
    photo: str
    whole_ssim: float
    cel: float
    texture_reduction: float
    ms: float
    warnings: int
    extra_faces: int  # faces the pipeline reported where no face is labelled (false or under 60 px)
    refused: str = ""  # the output content check's refusal (a false positive), measured without that check


@dataclass
class PresetResult:
    """Everything one worker measured for one preset."""

    preset: str
    faces: list[FaceRow] = field(default_factory=list)
    images: list[ImageRow] = field(default_factory=list)
    thumbs: dict[str, np.ndarray] = field(default_factory=dict)


def references(photos: list[Photo]) -> dict[tuple[str, int], np.ndarray]:
    """Reference embeddings of every labelled input face (probed like the outputs, label as fallback)."""
    refs = {}
    for photo in photos:
        for face in photo.faces:
            found = probe(photo.image, face.box, fallback_to_label=True)
            assert found.embedding is not None
            refs[(photo.id, face.index)] = found.embedding
    return refs


def init_worker(
    photo_ids: list[str], max_side: int, sheet: set[str], refs: dict[tuple[str, int], np.ndarray]
) -> None:
    """Worker set-up (spawned process): the photos from the cache, the references and the gallery."""
    import os

    from photos import load_photos

    if os.nice(0) < 10:
        os.nice(10 - os.nice(0))
    cv2.setNumThreads(1)
    PHOTOS[:] = load_photos(photo_ids, max_side=max_side)
    SHEET_PHOTOS.update(sheet)
    REFERENCES.update(refs)
    for photo in PHOTOS:
        for face in photo.faces:
            GALLERY.setdefault(face.person, []).append(refs[(photo.id, face.index)])


def thumb(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, round(w * THUMB / h)), THUMB)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def kmeans_cartoon(image: np.ndarray) -> np.ndarray:
    data = image.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(1)
    _, labels, centers = cv2.kmeans(data, 8, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    flat = centers[labels.ravel()].reshape(image.shape).astype(np.uint8)
    grey = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 7)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 2)
    return cv2.bitwise_and(flat, flat, mask=edges)


def baseline_filter(name: str) -> Callable[[np.ndarray], np.ndarray]:
    filters: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "cv2.stylization": lambda im: cv2.stylization(im, sigma_s=60, sigma_r=0.45),
        "cv2.pencilSketch": lambda im: cv2.cvtColor(
            cv2.pencilSketch(im, sigma_s=60, sigma_r=0.07)[0], cv2.COLOR_GRAY2RGB
        ),
        "kmeans8+edges": kmeans_cartoon,
    }
    return filters[name]


def _render(preset: str, image: np.ndarray) -> tuple[np.ndarray, list[object], int, str]:
    """The real pipeline at default settings (seed 1, allow_no_face), or a baseline filter; when the
    output content check refuses the result (a false positive on a portrait), the refusal and the
    render without that check, so the picture is still measured."""
    if preset in BASELINES:
        return baseline_filter(preset)(image), [], 0, ""
    from dataclasses import replace

    from restyle.domain import GenerateRequest, ImageSource
    from restyle.errors import OutputImageUnsafe
    from restyle.imaging.codecs import encode_image

    request = GenerateRequest(image=ImageSource(data=encode_image(image)), style=preset, seed=1, allow_no_face=True)
    pipeline = _pipeline()
    refused = ""
    try:
        result = pipeline.render(request)
    except OutputImageUnsafe as exc:
        refused = str(exc)
        result = pipeline.render(request, safety=replace(pipeline.default_safety, output_image=False))
    return result.image, list(result.faces), len(result.warnings), refused


_PIPELINE: list[object] = []


def _pipeline():  # type: ignore[no-untyped-def]
    if not _PIPELINE:
        from restyle.pipeline import Pipeline

        pipeline = Pipeline()
        pipeline.setup()
        _PIPELINE.append(pipeline)
    return _PIPELINE[0]


def run_preset(preset: str) -> PresetResult:
    """Render every photo with ``preset`` and measure it (numbered steps per photo)."""
    out = PresetResult(preset)
    for photo in PHOTOS:
        # 1. render
        start = time.perf_counter()
        output, reports, warnings, refused = _render(preset, photo.image)
        ms = (time.perf_counter() - start) * 1000
        if output.shape != photo.image.shape:
            output = cv2.resize(output, (photo.image.shape[1], photo.image.shape[0]), interpolation=cv2.INTER_AREA)
        # 2. per image
        whole = whole_ssim(photo.image, output)
        extra = sum(not any(matches(r.box, f.box) for f in photo.faces) for r in reports)  # type: ignore[attr-defined]
        out.images.append(
            ImageRow(
                preset, photo.id, whole, cel_coverage(output), texture_reduction(photo.image, output), ms, warnings,
                extra, refused,
            )
        )
        # 3. per labelled face: the pipeline's own report at that place, then the independent probe
        for face in photo.faces:
            report = next((r for r in reports if matches(r.box, face.box)), None)  # type: ignore[attr-defined]
            found = probe(output, face.box)
            dist = None if found.embedding is None else distance(found.embedding, REFERENCES[(photo.id, face.index)])
            out.faces.append(
                FaceRow(
                    preset,
                    photo.id,
                    face.index,
                    face.attributes | photo.attributes,
                    None if preset in BASELINES else report is not None,
                    found.detected,
                    dist,
                    found.embedding is not None and rank1(found.embedding, face.person, GALLERY),
                    getattr(report, "style_steps", 0),
                    getattr(report, "blend_steps", 0),
                    bool(getattr(report, "guard_applied", False)),
                    bool(getattr(report, "identity_lost", False)),
                    face_ssim_excess(photo.image, output, face.box, whole),
                )
            )
        # 4. contact-sheet tile
        if photo.id in SHEET_PHOTOS:
            out.thumbs[photo.id] = thumb(output)
    return out
