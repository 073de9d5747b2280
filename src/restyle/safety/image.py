"""The ``nudenet`` image checker: NudeNet's YOLOv8 detector (``320n.onnx``) run with onnxruntime.

The model file ships inside the PyPI wheel ``nudenet`` (install it with ``pip install --no-deps
nudenet==3.4.2``: its own dependency ``opencv-python-headless`` would overwrite restyle's OpenCV).
Its Python module is never imported; only the model file is read from the installed package.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restyle.errors import ConfigurationError, MissingExtra
from restyle.safety.base import Detection, ImageChecker, SafetyVerdict, decide
from restyle.safety.policy import SafetyPolicy, Stage

# The detector's output classes in the model's order (nudenet 3.4.x).
NUDENET_LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
    "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED",
)
# The face labels guess a gender, unreliably: they are dropped and no policy may use them.
UNUSABLE_LABELS = frozenset({"FACE_FEMALE", "FACE_MALE"})
INPUT_SIDE = 320  # the resolution nudenet runs this model at
MIN_SCORE = 0.2  # anchors whose best class scores less are ignored, as nudenet does
NMS_IOU = 0.45
INSTALL_HINT = "pip install --no-deps nudenet==3.4.2"


def nudenet_model_path() -> Path:
    """The ``320n.onnx`` file inside the installed ``nudenet`` package (the package is not imported)."""
    spec = importlib.util.find_spec("nudenet")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "320n.onnx"
        if path.is_file():
            return path
    raise MissingExtra(
        f"The nudenet image checker needs the NudeNet model, which ships in the nudenet wheel: "
        f"run {INSTALL_HINT}, or set the safety setting image_checker to none."
    )


def letterbox(image: np.ndarray, side: int = INPUT_SIDE) -> tuple[np.ndarray, float]:
    """The model input (1 x 3 x side x side float32 RGB in 0..1) and the factor back to image pixels.

    Like nudenet, the image sits in the top-left corner of a black square; unlike nudenet 3.4.2
    (whose colour conversion hands the model BGR for 3-channel files), the model gets RGB, the order
    YOLOv8 models are trained in.
    """
    rgb = _as_rgb(image)
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    factor = int(1 / scale)
    if factor >= 2:  # a whole-number area shrink first: OpenCV's area filter is slow at other factors
        rgb = rgb[: height - height % factor, : width - width % factor]
        rgb = cv2.resize(rgb, (rgb.shape[1] // factor, rgb.shape[0] // factor), interpolation=cv2.INTER_AREA)
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((side, side, 3), np.float32)
    canvas[:new_h, :new_w] = resized
    canvas *= 1.0 / 255.0
    return canvas.transpose(2, 0, 1)[np.newaxis].copy(), 1.0 / scale


def decode(output: np.ndarray, back: float, width: int, height: int) -> list[Detection]:
    """Detections from the raw YOLOv8 output (1 x (4 + classes) x anchors), in image pixels.

    Each anchor keeps its best class (if it scores at least MIN_SCORE); overlapping boxes of the
    same class are reduced by non-maximum suppression, so a box of one class never hides another's.
    """
    rows = np.asarray(output, np.float32).reshape(output.shape[-2], output.shape[-1]).T
    scores = rows[:, 4:]
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(len(rows)), best]
    keep = best_score >= MIN_SCORE
    rows, best, best_score = rows[keep], best[keep], best_score[keep]
    if not len(rows):
        return []
    # 1. Centre boxes in model pixels -> top-left boxes in image pixels, clipped to the image.
    cx, cy, bw, bh = (rows[:, i] * back for i in range(4))
    x0 = np.clip(cx - bw / 2, 0, width)
    y0 = np.clip(cy - bh / 2, 0, height)
    x1 = np.clip(cx + bw / 2, 0, width)
    y1 = np.clip(cy + bh / 2, 0, height)
    boxes = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1)
    # 2. Class-aware non-maximum suppression.
    kept = cv2.dnn.NMSBoxesBatched(boxes.tolist(), best_score.tolist(), best.tolist(), MIN_SCORE, NMS_IOU)
    detections = []
    for index in np.asarray(kept, np.int64).reshape(-1):
        label = NUDENET_LABELS[int(best[index])]
        if label in UNUSABLE_LABELS:
            continue
        x, y, w, h = (int(v) for v in boxes[index])
        detections.append(Detection(label=label, score=float(best_score[index]), box=(x, y, w, h)))
    detections.sort(key=lambda d: -d.score)
    return detections


class NudeNetChecker(ImageChecker):
    """NudeNet's exposed-body-part detector; the model loads on first use, one intra-op thread."""

    name = "nudenet"
    classes = frozenset(NUDENET_LABELS) - UNUSABLE_LABELS

    def __init__(self, model_path: str | Path | None = None, threads: int = 1) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.threads = threads
        self._session: Any = None
        self._input_name = "images"
        self._lock = threading.Lock()

    @classmethod
    def validate_policy(cls, policy: SafetyPolicy) -> None:
        faces = sorted(UNUSABLE_LABELS & set(policy.image_classes))
        if faces:
            raise ConfigurationError(
                f"The safety setting image_classes names {', '.join(faces)}: NudeNet's face labels guess a "
                f"gender unreliably and cannot be used; remove them.",
                param="safety.image_classes",
            )
        super().validate_policy(policy)

    def setup(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise MissingExtra("The nudenet image checker needs onnxruntime: pip install onnxruntime.") from exc
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared CPUs
            path = self.model_path or nudenet_model_path()
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            self._input_name = session.get_inputs()[0].name
            self._session = session

    def healthcheck(self) -> dict[str, Any]:
        """Load the model and run it once on a blank image."""
        detections = self.detect(np.zeros((64, 64, 3), np.uint8))
        return {"checker": self.name, "ok": True, "model": str(self.model_path or nudenet_model_path()),
                "blank_image_detections": len(detections)}

    def raw_output(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's raw output for ``image`` and the factor from model to image pixels."""
        self.setup()
        blob, back = letterbox(image)
        output = self._session.run(None, {self._input_name: blob})[0]
        return np.asarray(output), back

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Every detection of a usable class scoring at least MIN_SCORE, best first."""
        output, back = self.raw_output(image)
        return decode(output, back, image.shape[1], image.shape[0])

    def check(self, image: np.ndarray, *, stage: Stage, policy: SafetyPolicy) -> SafetyVerdict:
        return decide(self.detect(image), stage=stage, policy=policy, checker=self.name)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 H x W x 3 from grey, grey + alpha, RGB or RGBA pixels (alpha dropped)."""
    if image.dtype != np.uint8:
        raise ValueError(f"The safety check takes uint8 pixels, not {image.dtype}.")
    if image.ndim == 2:
        return np.repeat(image[:, :, np.newaxis], 3, axis=2)
    if image.ndim == 3 and image.shape[2] in (1, 2):
        return np.repeat(image[:, :, :1], 3, axis=2)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[:, :, :3])
    raise ValueError(f"The safety check takes H x W x 3 pixels, not an array of shape {image.shape}.")
