"""One generation from request to encoded result: the runner's steps, shared by CLI and workers."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from restyle.config import Settings
from restyle.domain import FaceReport, GenerateRequest, GenerateResult, ImageSource, StylePreset
from restyle.engines import ENGINES, Engine, EngineJob
from restyle.errors import FaceNotFound, InternalError, InvalidParameter
from restyle.faces import detect_faces, identity_guard, retouch, with_embeddings
from restyle.faces.types import Face
from restyle.imaging.codecs import decode_image, encode_image
from restyle.imaging.limits import input_rules
from restyle.imaging.output import Geometry, apply_geometry, output_rule, plan_geometry
from restyle.labels import apply_file_labels, apply_pixel_labels
from restyle.labels.request import request_labels
from restyle.requests import request_to_params
from restyle.safety import SafetyPolicy, check_image, check_text, get_checker, policy_for

ProgressFn = Callable[[str, float], None]
CheckFn = Callable[[], None]

# step name -> fraction of the work done when the step starts (for progress reports)
STEPS: dict[str, float] = {
    "decode": 0.0,
    "precheck": 0.03,
    "detect": 0.05,
    "prepare": 0.2,
    "embed_input": 0.25,
    "engine": 0.35,
    "retouch": 0.7,
    "guard": 0.75,
    "postcheck": 0.88,
    "label": 0.9,
    "encode": 0.95,
}


class Pipeline:
    """Runs the steps of DESIGN.md section 1 between ``load inputs`` and ``encode``.

    Build one per worker process and call :meth:`setup` once; :meth:`render` is then safe to
    call for one request at a time.
    """

    def __init__(self, settings: Settings | None = None, engine: Engine | None = None) -> None:
        self.settings = settings or Settings()
        self.engine = engine or ENGINES.create(self.settings.engine.name, **self.settings.engine.options)
        self._catalog = self.engine.catalog()
        self._ready = False

    @property
    def ready(self) -> bool:
        return self._ready

    def setup(self) -> None:
        """Load the engine's models and the face models once."""
        from restyle.faces import models

        self.engine.setup()
        models.hog_detector()
        models.shape_predictor()
        models.face_recognizer()
        if self.default_safety.enabled:
            get_checker(self.settings.safety.image_checker).setup()  # its model, before the first task
        self._ready = True

    @functools.cached_property
    def default_safety(self) -> SafetyPolicy:
        """The settings' content policy (for callers without an account, such as ``restyle run``)."""
        return policy_for(self.settings)

    def presets(self) -> list[StylePreset]:
        return list(self._catalog.presets)

    def resolve_style(self, value: str | int) -> StylePreset:
        return self._catalog.find(value)

    def render(
        self,
        request: GenerateRequest,
        *,
        progress: ProgressFn | None = None,
        check: CheckFn | None = None,
        task_id: str | None = None,
        safety: SafetyPolicy | None = None,
    ) -> GenerateResult:
        """Generate one result for ``request``; raises RestyleError subclasses for bad input.

        ``task_id`` goes into the labels (TC260 ProduceID, watermark payload); without one, a digest of
        the inputs, parameters and seed (the same request and seed give the same bytes).
        ``safety`` is the account's content policy (``policy_for``); the settings' one without it.
        """
        timings: dict[str, float] = {}
        limits = self.settings.images

        @contextmanager
        def step(name: str) -> Iterator[None]:
            if check is not None:
                check()
            if progress is not None:
                progress(name, STEPS[name])
            start = time.perf_counter()
            yield
            timings[name] = (time.perf_counter() - start) * 1000.0

        # 1. decode the inputs
        with step("decode"):
            rules = input_rules(request.front, limits)
            image = decode_image(_source_bytes(request.image, "image"), rules=rules, param="image")
            style_image = None
            if request.style_image is not None:
                style_bytes = _source_bytes(request.style_image, "style_image")
                style_image = decode_image(style_bytes, rules=rules, param="style_image")
        # 2. pre-checks: the prompt against the blocklists, the input images against the image checker
        with step("precheck"):
            policy = safety if safety is not None else self.default_safety
            check_text(request.prompt, policy)
            check_image(image, stage="input", policy=policy)
            if style_image is not None:
                check_image(style_image, stage="input", policy=policy, param="style_image")
        # 3. find the faces on the input
        with step("detect"):
            faces = detect_faces(image, detector=self.settings.faces.detector)
            if not faces and not request.allow_no_face:
                raise FaceNotFound(
                    "No face was found in parameter 'image'; send a photo with a visible face of at least "
                    "60 pixels, or set allow_no_face=true to stylize it anyway.",
                    param="image",
                )
        # 4. output geometry: crop and resize before rendering so every later step works at final size
        with step("prepare"):
            geometry = plan_geometry(
                (image.shape[1], image.shape[0]),
                faces[0].center if faces else None,
                request.width,
                request.height,
                rule=output_rule(request.front, limits),
            )
            working = apply_geometry(image, geometry)
            faces = _faces_in_output(faces, geometry)
            seed = request.seed if request.seed >= 0 else secrets.randbelow(2**31)
            preset = self.resolve_style(request.style) if request.style else None
        # 5. identity reference: the input faces' embeddings at output geometry
        with step("embed_input"):
            faces = with_embeddings(working, faces)  # one embedder run for every face
        # 6. the engine
        with step("engine"):
            job = EngineJob(request, working, faces, seed, preset, style_image)
            output = self.engine.generate(job)
            stylized = output.image
            if stylized.shape != working.shape:
                raise InternalError(
                    f"The engine returned {stylized.shape[1]}x{stylized.shape[0]} pixels instead of "
                    f"{working.shape[1]}x{working.shape[0]}.",
                    code="engine.output",
                )
        # 7. retouch (HD face, beautify, skin smoothing)
        with step("retouch"):
            stylized = retouch(
                stylized,
                faces,
                hd=request.hd_strength,
                beautify=request.beautify_strength,
                smooth=request.smooth_strength,
            )
        # 8. identity guard
        with step("guard"):
            drawn = stylized

            def rerender(detail: float) -> np.ndarray | None:
                return self.engine.render_face_detail(job, drawn, detail)

            stylized, reports = identity_guard(
                working,
                stylized,
                faces,
                threshold=request.min_identity,
                enabled=request.face_switch,
                rerender=rerender,
            )
        # 9. post-check: the output image against the image checker
        with step("postcheck"):
            check_image(stylized, stage="output", policy=policy)
        # 10. labels on the pixels: the visible label (logo_info) and the invisible watermark
        with step("label"):
            labels = request_labels(self.settings.labels, request)
            produce_id = task_id or _content_id(request, seed)
            stylized = apply_pixel_labels(stylized, labels, produce_id)
        # 11. encode, then the labels in the file: TC260 XMP, C2PA manifest (last: it hashes the file)
        with step("encode"):
            encoded = encode_image(stylized, request.output_format, request.output_quality)
            encoded = apply_file_labels(encoded, request.output_format.value, labels, produce_id)
        if check is not None:
            check()
        timings["total"] = sum(timings.values())
        warnings = []
        if not faces:
            warnings.append("No face was found; the image was stylized without identity measurement.")
        warnings.extend(_face_warnings(reports, request.min_identity, request.face_switch))
        return GenerateResult(
            image=stylized,
            encoded=encoded,
            format=request.output_format,
            style=output.info.get("style", preset.name if preset else None),
            seed=seed,
            faces=reports,
            timings_ms=timings,
            prompt_words_used=output.prompt_words_used,
            prompt_words_ignored=output.prompt_words_ignored,
            warnings=warnings,
            info=output.info,
        )


def _face_warnings(reports: list[FaceReport], threshold: float, guarded: bool) -> list[str]:
    """One warning per face whose identity is not kept: over the threshold or not found again."""
    why = (
        "the identity guard could not bring it lower"
        if guarded
        else "the identity guard is off (face_switch=false)"
    )
    warnings = []
    for number, report in enumerate(reports):
        if report.guard_passed or report.identity_distance is None:
            continue
        if not report.detected_in_output:
            warnings.append(
                f"Face {number} was not found again at its place in the output, so its identity is not "
                f"confirmed (distance {report.identity_distance:.3f} measured in its box, requested "
                f"min_identity={threshold}); {why}."
            )
        else:
            warnings.append(
                f"Face {number} has an identity distance of {report.identity_distance:.3f}, above the "
                f"requested min_identity={threshold}; {why}."
            )
    return warnings


def _content_id(request: GenerateRequest, seed: int) -> str:
    """A ProduceID for work without a task (``restyle run``): a digest of the inputs, parameters and seed,
    so the same input, parameters and seed still give the same bytes."""
    params = {**request_to_params(request), "seed": seed}  # the seed used, so -1 and its pick agree
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for source in (request.image, request.style_image):
        digest.update(hashlib.sha256(source.data or (source.url or "").encode()).digest() if source else b"-")
    return digest.hexdigest()[:32]


def _source_bytes(source: ImageSource, param: str) -> bytes:
    if source.data is not None:
        return source.data
    if source.url is not None:  # the runner fetches URLs (restyle.imaging.fetch) before rendering
        raise InternalError(
            f"Parameter '{param}' is a URL that was not fetched before rendering; fetch it with the URL "
            "guard first.",
            param=param,
        )
    raise InvalidParameter(f"Parameter '{param}' has no image data.", param=param)


def _faces_in_output(faces: list[Face], geometry: Geometry) -> list[Face]:
    """Faces moved into output coordinates; faces whose centre the crop cut off are dropped."""
    if geometry.is_identity:
        return faces
    scale = geometry.scale
    left, top = geometry.crop[0], geometry.crop[1]
    moved = [face.transformed(scale, left * scale, top * scale) for face in faces]
    return [
        face
        for face in moved
        if 0 <= face.center[0] < geometry.width and 0 <= face.center[1] < geometry.height
    ]

