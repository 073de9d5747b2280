"""A declared ONNX style model: how its tensor looks, checked against the file, and how to run it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restyle.errors import ConfigurationError

LAYOUTS = ("NCHW", "NHWC")
CHANNELS = ("RGB", "BGR")
RANGES = ("-1,1", "0,1")
MODES = ("full", "face")


def _bad(name: str, field: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"ONNX model '{name}': {field} {message}", param=f"onnx.{field}")


@dataclass(frozen=True)
class OnnxModelSpec:
    """One operator-declared model: file, tensor conventions, size rules and mode (full image or face)."""

    name: str
    file: Path
    input_name: str | None = None  # None = the model's first input
    layout: str = "NCHW"
    channels: str = "RGB"
    value_range: str = "-1,1"
    size_multiple: int = 8
    max_side: int = 1024
    mode: str = "full"
    face_size: int = 512  # side of the aligned face crop in mode "face"
    title: str = ""
    description: str = ""

    @classmethod
    def from_mapping(cls, values: dict[str, Any], base: Path | None = None) -> OnnxModelSpec:
        """A spec from a catalogue entry or engine options; every field is checked, errors name it."""
        data = dict(values)
        file = data.pop("file", None) or data.pop("model", None)
        name = str(data.pop("name", None) or (Path(str(file)).stem if file else "onnx"))
        if not file:
            raise _bad(name, "file", "is missing: give the path of the .onnx file.")
        path = Path(str(file)).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        if "range" in data:
            data["value_range"] = data.pop("range")
        known = set(cls.__dataclass_fields__) - {"name", "file"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise _bad(
                name, unknown[0], f"is not a known field; the fields are file, {', '.join(sorted(known))}."
            )
        spec = cls(name=name, file=path, **data)
        spec.check_fields()
        return spec

    def check_fields(self) -> None:
        """Each enumerated field has a known value and each size is a positive integer."""
        choices = {"layout": LAYOUTS, "channels": CHANNELS, "value_range": RANGES, "mode": MODES}
        for field, allowed in choices.items():
            value = getattr(self, field)
            if value not in allowed:
                raise _bad(self.name, field, f"is '{value}'; choose one of: {', '.join(allowed)}.")
        for field, low in (("size_multiple", 1), ("max_side", 16), ("face_size", 16)):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise _bad(self.name, field, f"is {value!r}; give an integer of at least {low}.")
        if self.max_side < self.size_multiple:
            raise _bad(
                self.name, "max_side", f"({self.max_side}) is below size_multiple ({self.size_multiple})."
            )


class OnnxModel:
    """A loaded session for one spec; ``run`` takes and returns RGB uint8 images of the same size."""

    def __init__(self, spec: OnnxModelSpec, threads: int = 1) -> None:
        import onnxruntime as ort

        self.spec = spec
        if not spec.file.is_file():
            raise _bad(spec.name, "file", f"'{spec.file}' does not exist or is not a file.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(spec.file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for bad files
            raise _bad(spec.name, "file", f"'{spec.file}' is not a loadable ONNX model ({exc}).") from None
        self.input_name, self.output_name = self._check_tensors()

    def _check_tensors(self) -> tuple[str, str]:
        """The input name to feed and the output to read, after checking ranks and channel counts."""
        spec = self.spec
        inputs = {i.name: i for i in self.session.get_inputs()}
        name = spec.input_name or next(iter(inputs))
        if name not in inputs:
            raise _bad(
                spec.name,
                "input_name",
                f"'{name}' is not an input of the model; it has: {', '.join(inputs)}.",
            )
        channel_axis = 1 if spec.layout == "NCHW" else 3
        for role, tensor in (("input", inputs[name]), ("output", self.session.get_outputs()[0])):
            shape = list(tensor.shape)
            if len(shape) != 4:
                raise _bad(
                    spec.name, "layout", f"expects a 4-D {role}; the model's {role} has shape {shape}."
                )
            channels, other_axis = shape[channel_axis], shape[4 - channel_axis]
            # a fixed 3 on the other layout's channel axis and anything else on ours: the layout is wrong
            if (isinstance(channels, int) and channels != 3) or (channels != 3 and other_axis == 3):
                other = "NHWC" if spec.layout == "NCHW" else "NCHW"
                raise _bad(
                    spec.name, "layout",
                    f"is {spec.layout} but the model's {role} {shape} has {channels} channels on that axis "
                    f"(3 expected); is the layout {other}?",
                )  # fmt: skip
        return name, self.session.get_outputs()[0].name

    def working_size(self, width: int, height: int) -> tuple[int, int]:
        """(w, h) no larger than max_side and rounded to size_multiple, keeping the aspect ratio."""
        spec = self.spec
        scale = min(1.0, spec.max_side / max(width, height))
        m = spec.size_multiple

        def snap(v: float) -> int:
            return max(m, int(math.floor(v / m + 0.5)) * m)

        return min(snap(width * scale), spec.max_side // m * m), min(
            snap(height * scale), spec.max_side // m * m
        )

    def run(self, image: np.ndarray) -> np.ndarray:
        """``image`` (RGB uint8) stylised by the model, back at the same size."""
        import cv2

        spec = self.spec
        h, w = image.shape[:2]
        tw, th = self.working_size(w, h)
        work = image if (tw, th) == (w, h) else cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
        x = work[..., ::-1] if spec.channels == "BGR" else work
        x = x.astype(np.float32) / 255.0
        if spec.value_range == "-1,1":
            x = x * 2.0 - 1.0
        x = x[None]
        if spec.layout == "NCHW":
            x = x.transpose(0, 3, 1, 2)
        y = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(x)})[0]
        y = np.asarray(y, dtype=np.float32)[0]
        if spec.layout == "NCHW":
            y = y.transpose(1, 2, 0)
        if spec.value_range == "-1,1":
            y = (y + 1.0) / 2.0
        out = np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if spec.channels == "BGR":
            out = out[..., ::-1]
        out = np.ascontiguousarray(out)
        if out.shape[:2] != (h, w):
            out = np.asarray(cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)
        return out
