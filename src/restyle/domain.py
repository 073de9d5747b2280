"""Core value types shared by every front, the runner and the engines.

There is one request type (:class:`GenerateRequest`) and one result type
(:class:`GenerateResult`); every front maps its wire format onto them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class TaskStatus(enum.StrEnum):
    """Lifecycle of a task row. UNKNOWN is only ever answered by fronts for missing ids."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


class ReferenceMode(enum.StrEnum):
    """How much of the input photo the result keeps (Portrait Photography ``ref_mode``)."""

    CREATIVE = "creative"
    REFERENCE = "reference"
    REFERENCE_CHAR = "reference_char"


class OutputFormat(enum.StrEnum):
    """Encoded format of result images."""

    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    AVIF = "avif"  # issue 7: Pillow's AVIF encoder
    HEIC = "heic"  # issue 7: pillow-heif's HEVC encoder


@dataclass(frozen=True)
class ImageSource:
    """Where an input image comes from: raw bytes, a URL, or a storage key of an upload."""

    data: bytes | None = None
    url: str | None = None
    key: str | None = None

    def describe(self) -> str:
        if self.data is not None:
            return f"{len(self.data)} bytes"
        return self.url or self.key or "nothing"


@dataclass(frozen=True)
class StylePreset:
    """A named style: numbered presets follow the wanx ``style_index`` list."""

    name: str
    title_en: str
    title_zh: str
    description: str
    index: int | None = None
    line_art: bool = False  # dlib's embedding underrates line drawings; reported separately

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "title_en": self.title_en,
            "title_zh": self.title_zh,
            "description": self.description,
            "line_art": self.line_art,
        }


@dataclass(frozen=True)
class GenerateRequest:
    """Everything a caller can ask of a generation, independent of the wire format.

    Numeric ranges and defaults are validated by :mod:`restyle.requests`; instances built
    by hand are trusted.
    """

    image: ImageSource
    style: str | None = None  # canonical preset name; None = from prompt / style image / default
    style_image: ImageSource | None = None
    prompt: str = ""
    negative_prompt: str = ""
    style_switch: bool = True  # learn the style image's look (when one is given)
    facestyle_switch: bool = False  # keep the face image's own look
    face_switch: bool = True  # keep the identity (identity guard on)
    hyper_switch: bool = False  # few-step mode of diffusion engines
    seed: int = -1
    steps: int | None = None
    cfg_scale: float | None = None
    strength: float = 1.0  # style strength 0..1
    width: int | None = None
    height: int | None = None
    hd_strength: float = 0.4
    beautify_strength: float = 0.3
    smooth_strength: float = 0.0
    mode: ReferenceMode | None = None  # None = creative with a prompt, reference without
    min_identity: float = 0.5  # largest identity distance accepted by the guard
    allow_no_face: bool = False
    output_format: OutputFormat = OutputFormat.PNG
    output_quality: int = 92
    logo_info: dict[str, Any] | None = None  # visible label: add_logo, position 0..3, language 0..1, opacity
    label_metadata: bool | None = None  # TC260 XMP label; None = settings labels.metadata
    label_invisible: bool | None = None  # invisible watermark; None = settings labels.invisible
    label_c2pa: bool | None = None  # signed C2PA manifest; None = settings labels.c2pa
    front: str = "native"  # whose input and output rules apply (native, volc, dashscope, ...)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_mode(self) -> ReferenceMode:
        if self.mode is not None:
            return self.mode
        return ReferenceMode.CREATIVE if self.prompt.strip() else ReferenceMode.REFERENCE


@dataclass
class FaceReport:
    """Per-face outcome: where it is in the output and how well identity was kept."""

    box: tuple[int, int, int, int]  # left, top, right, bottom in output pixels
    identity_distance: float | None
    detected_in_output: bool
    guard_applied: bool = False
    guard_passed: bool = True
    guard_steps: int = 0  # style_steps + blend_steps
    # additive (issue 10): how the guard restored the face, and whether it is kept at all
    style_steps: int = 0  # redraws in the preset's own terms (line work, shading, palette)
    blend_steps: int = 0  # blends of photo pixels, the last resort
    identity_lost: bool = False  # not re-detected in the output, or still over the threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": list(self.box),
            "identity_distance": None if self.identity_distance is None else round(self.identity_distance, 4),
            "detected_in_output": self.detected_in_output,
            "guard_applied": self.guard_applied,
            "guard_passed": self.guard_passed,
            "guard_steps": self.guard_steps,
            "style_steps": self.style_steps,
            "blend_steps": self.blend_steps,
            "identity_lost": self.identity_lost,
        }


@dataclass
class GenerateResult:
    """The one result type: the output image, its encoding and what happened on the way."""

    image: np.ndarray  # RGB uint8, final size
    encoded: bytes
    format: OutputFormat
    style: str | None
    seed: int
    faces: list[FaceReport] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    prompt_words_used: list[str] = field(default_factory=list)
    prompt_words_ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def main_face(self) -> FaceReport | None:
        return self.faces[0] if self.faces else None

    @property
    def identity_distance(self) -> float | None:
        face = self.main_face
        return face.identity_distance if face else None

    @property
    def guard_applied(self) -> bool:
        return any(f.guard_applied for f in self.faces)

    @property
    def guard_passed(self) -> bool:
        return all(f.guard_passed for f in self.faces)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def summary(self) -> dict[str, Any]:
        """JSON-ready description without the pixels."""
        return {
            "style": self.style,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "format": self.format.value,
            "identity_distance": None
            if self.identity_distance is None
            else round(self.identity_distance, 4),
            "guard_applied": self.guard_applied,
            "guard_passed": self.guard_passed,
            "faces": [f.to_dict() for f in self.faces],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "prompt_words_used": self.prompt_words_used,
            "prompt_words_ignored": self.prompt_words_ignored,
            "warnings": self.warnings,
        }
