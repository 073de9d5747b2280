"""ONNX engine: operator-supplied style models (AnimeGAN-like) run with onnxruntime on CPU.

Each declared model is one style preset. Mode ``full`` stylises the whole image; mode ``face``
stylises an aligned crop of each face and blends it back with a feathered mask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from restyle.domain import StylePreset
from restyle.engines.base import Engine, EngineJob, EngineOutput
from restyle.engines.onnx_model import OnnxModel, OnnxModelSpec
from restyle.errors import ConfigurationError
from restyle.faces.types import Face

# Where the eye centres and the mouth centre land in the aligned face crop (fractions of its side):
# a loose portrait crop with hair and chin, as face-stylisation models are trained on.
_TEMPLATE = np.array([[0.375, 0.45], [0.625, 0.45], [0.5, 0.70]], np.float32)


class OnnxEngine(Engine):
    """Runs declared ONNX models; options: ``models`` (list of specs), or one ``model``/``file`` with its
    fields (``layout``, ``channels``, ``value_range``, ...), or ``catalogue`` (a models.toml path)."""

    name = "onnx"

    def __init__(
        self,
        models: list[dict[str, Any]] | None = None,
        catalogue: str | Path | None = None,
        threads: int = 1,
        **single: Any,
    ) -> None:
        specs: list[OnnxModelSpec] = [OnnxModelSpec.from_mapping(m) for m in models or []]
        if single:
            specs.append(OnnxModelSpec.from_mapping(single))
        if catalogue is not None:
            from restyle.engines.catalogue import load_catalogue

            specs.extend(load_catalogue(Path(catalogue)).onnx)
        if not specs:
            raise ConfigurationError(
                "The onnx engine needs a model: set engine options 'model' (a .onnx file), 'models' or "
                "'catalogue' (restyle run: --model FILE.onnx).",
                param="engine.options",
            )
        names = [s.name for s in specs]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ConfigurationError(f"ONNX model name '{duplicate}' is declared twice.", param="onnx.name")
        self.specs = {s.name: s for s in specs}
        self.threads = threads
        self._models: dict[str, OnnxModel] = {}

    def setup(self) -> None:
        for name in self.specs:
            self.model(name)

    def model(self, name: str) -> OnnxModel:
        """The loaded model for preset ``name`` (loaded and checked on first use)."""
        if name not in self._models:
            self._models[name] = OnnxModel(self.specs[name], self.threads)
        return self._models[name]

    def presets(self) -> list[StylePreset]:
        return [
            StylePreset(
                name=s.name,
                title_en=s.title or s.name.replace("_", " ").title(),
                title_zh=s.title or s.name,
                description=s.description or f"ONNX model {s.file.name} ({s.mode} mode)",
            )
            for s in self.specs.values()
        ]

    def generate(self, job: EngineJob) -> EngineOutput:
        name = (
            job.preset.name
            if job.preset is not None and job.preset.name in self.specs
            else next(iter(self.specs))
        )
        model = self.model(name)
        if model.spec.mode == "face":
            styled = _stylise_faces(model, job.image, job.faces)
        else:
            styled = model.run(job.image)
        strength = float(job.request.strength)
        if strength < 1.0:
            mixed = job.image.astype(np.float32) * (1.0 - strength) + styled.astype(np.float32) * strength
            styled = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        return EngineOutput(
            image=styled,
            info={"engine": self.name, "model": name, "mode": model.spec.mode, "faces": len(job.faces)},
        )

    def healthcheck(self) -> dict[str, Any]:
        self.setup()
        return {
            "engine": self.name,
            "ok": True,
            "models": {
                n: {"file": str(s.file), "mode": s.mode, "layout": s.layout} for n, s in self.specs.items()
            },
        }


def _landmark_points(face: Face) -> np.ndarray:
    """Right eye centre, left eye centre, mouth centre (image pixels)."""
    pts = np.asarray(face.landmarks, np.float32).reshape(68, 2)
    return np.stack([pts[36:42].mean(0), pts[42:48].mean(0), pts[48:60].mean(0)]).astype(np.float32)


def _stylise_faces(model: OnnxModel, image: np.ndarray, faces: list[Face]) -> np.ndarray:
    """``image`` with each face replaced by its stylised aligned crop, feather-blended (no face: unchanged)."""
    import cv2

    out = image.astype(np.float32)
    h, w = image.shape[:2]
    size = min(model.spec.face_size, model.spec.max_side)
    size -= size % model.spec.size_multiple
    # 1. the feathered ellipse mask in crop space, shared by every face
    crop_mask = np.zeros((size, size), np.float32)
    cv2.ellipse(
        crop_mask, (size // 2, int(size * 0.52)), (int(size * 0.40), int(size * 0.47)), 0, 0, 360, 1.0, -1
    )
    crop_mask = np.asarray(cv2.GaussianBlur(crop_mask, (0, 0), size * 0.05), np.float32)
    for face in faces:
        # 2. similarity transform from the face's eyes and mouth to the template
        matrix, _ = cv2.estimateAffinePartial2D(_landmark_points(face), _TEMPLATE * size)
        if matrix is None:
            continue
        crop = cv2.warpAffine(
            image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        # 3. stylise the crop, then warp it and the mask back onto the image
        styled = model.run(crop)
        inverse = cv2.invertAffineTransform(matrix)
        back = cv2.warpAffine(styled, inverse, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        alpha = cv2.warpAffine(crop_mask, inverse, (w, h), flags=cv2.INTER_LINEAR)[..., None]
        out = out * (1.0 - alpha) + back.astype(np.float32) * alpha
    result: np.ndarray = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return result
