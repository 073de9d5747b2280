"""Diffusion engine: img2img with operator-supplied SD 1.5 / SDXL weights, run in a spawned child process.

The child (:mod:`restyle.engines.diffusion_worker`, the only module importing torch and diffusers)
keeps pipelines warm; a crash or out-of-memory kill ends only the child: the job fails with
``engine.crashed`` (503, retryable) and the next job starts a fresh child.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from restyle.domain import StylePreset
from restyle.engines.base import Engine, EngineJob, EngineOutput
from restyle.engines.catalogue import DiffusionModel, detect_kind, load_catalogue
from restyle.engines.child_pipe import Duplex
from restyle.errors import ConfigurationError, RestyleError

# Built-in prompt templates for a model whose catalogue entry names no presets ({prompt} = user words).
DEFAULT_PRESETS: dict[str, dict[str, Any]] = {
    "anime": {"prompt": "anime style portrait, clean line art, cel shading, {prompt}"},
    "watercolor": {"prompt": "watercolor painting portrait, soft washes, paper texture, {prompt}"},
    "oil_painting": {"prompt": "oil painting portrait, visible brush strokes, rich colours, {prompt}"},
    "sketch": {"prompt": "pencil sketch portrait, graphite shading, {prompt}"},
}
DEFAULT_NEGATIVE = "lowres, blurry, deformed face, extra fingers, watermark, text"


class DiffusionEngineCrashed(RestyleError):
    """The child process died (crash, out-of-memory kill); the worker lives and the task may be retried."""

    code = "engine.crashed"
    status = 503


def snap_size(width: int, height: int, multiple: int, max_side: int) -> tuple[int, int]:
    """(w, h) scaled to fit ``max_side`` and rounded to ``multiple``, aspect kept (the whole frame, face included)."""
    scale = min(1.0, max_side / max(width, height))
    return tuple(
        max(multiple, int(math.floor(v * scale / multiple + 0.5)) * multiple) for v in (width, height)
    )  # type: ignore[return-value]


def resolve_model(model: str | None, catalogue: str | Path | None) -> DiffusionModel:
    """A catalogue entry by NAME, or a plain diffusers folder PATH (kind from model_index.json)."""
    entries = load_catalogue(Path(catalogue)).diffusion if catalogue else {}
    if model is None and len(entries) >= 1:
        return next(iter(entries.values()))
    if model in entries:
        return entries[model]
    if model is not None and Path(model).is_dir():
        folder = Path(model)
        return DiffusionModel(name=folder.name, base=folder, kind=detect_kind(folder))
    known = ", ".join(entries) or "none in the catalogue"
    raise ConfigurationError(
        f"Diffusion model '{model}' is neither a catalogue name ({known}) nor a diffusers pipeline folder.",
        param="engine.model",
    )


class DiffusionEngine(Engine):
    """Runs img2img in a child process; options: model, catalogue, device, dtype, attention_slicing,
    threads, max_models, max_side, timeout_seconds."""

    name = "diffusion"

    def __init__(
        self,
        model: str | None = None,
        catalogue: str | Path | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        attention_slicing: bool = False,
        threads: int = 1,
        max_models: int = 2,
        max_side: int = 1024,
        timeout_seconds: float = 600.0,
    ) -> None:
        self.model = resolve_model(model, catalogue)
        self.multiple = 64 if self.model.kind == "sdxl" else 8
        self.max_side = max_side
        self.timeout = timeout_seconds
        self.child_settings = {"device": device, "dtype": dtype, "attention_slicing": attention_slicing,
                               "threads": threads, "max_models": max_models}  # fmt: skip
        self._process: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()

    # 1. the child process
    def setup(self) -> None:
        with self._lock:
            self._ensure_child()

    def _ensure_child(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        if self._process is not None:  # it died while idle: release its pipes before a new one starts
            self._stop_child()
        # A plain subprocess, not multiprocessing: worker processes are daemonic and may not have
        # multiprocessing children. Jobs go as pickled frames over its stdin/stdout; it exits on EOF,
        # so it never outlives its worker.
        import subprocess
        import sys

        process = subprocess.Popen(
            [sys.executable, "-m", "restyle.engines.diffusion_worker", json.dumps(self.child_settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        self._process = process
        self._conn = Duplex(Connection(os.dup(process.stdout.fileno()), writable=False),
                             Connection(os.dup(process.stdin.fileno()), readable=False))  # fmt: skip
        process.stdin.close()
        process.stdout.close()
        if not self._conn.poll(self.timeout):
            self._stop_child()
            raise DiffusionEngineCrashed("The diffusion child process did not start in time.")
        self._receive()

    def _receive(self) -> tuple[Any, Any, Any]:
        try:
            return self._conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):
            code = self._process.poll() if self._process is not None else None
            self._stop_child()
            raise DiffusionEngineCrashed(
                f"The diffusion child process died (exit code {code}); the task can be retried."
            ) from None

    def _stop_child(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
            self._conn.close()
        self._process = self._conn = None

    @property
    def child_pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
            self._stop_child()

    # 2. presets and jobs
    def presets(self) -> list[StylePreset]:
        presets = self.model.presets or DEFAULT_PRESETS
        return [
            StylePreset(name=n, title_en=n.replace("_", " ").title(), title_zh=n,
                        description=f"{self.model.kind} diffusion: {p.get('prompt', '')}")
            for n, p in presets.items()
        ]  # fmt: skip

    def _job_payload(self, job: EngineJob) -> dict[str, Any]:
        request = job.request
        presets = self.model.presets or DEFAULT_PRESETS
        preset = presets.get(job.preset.name if job.preset else "", next(iter(presets.values())))
        words = request.prompt.strip()
        prompt = str(preset.get("prompt", "{prompt}")).replace("{prompt}", words).strip(" ,")
        h, w = job.image.shape[:2]
        tw, th = snap_size(w, h, self.multiple, self.max_side)
        import cv2

        image = (
            job.image if (tw, th) == (w, h) else cv2.resize(job.image, (tw, th), interpolation=cv2.INTER_AREA)
        )
        model: dict[str, Any] = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self.model).items()
        }
        model["loras"] = [
            {k: str(v) if isinstance(v, Path) else v for k, v in lora.items()} for lora in self.model.loras
        ]
        for key in ("ip_adapter", "identity_adapter"):
            if model[key]:
                model[key] = {k: str(v) if isinstance(v, Path) else v for k, v in model[key].items()}
        hyper = next((lora for lora in model["loras"] if lora.get("role") == "hyper"), None)
        if request.hyper_switch and hyper is None:
            raise ConfigurationError(
                f"hyper_switch needs a LoRA with role 'hyper' in diffusion model '{self.model.name}'.",
                param="hyper_switch",
            )
        style_image = job.style_image if request.style_switch else None
        if request.facestyle_switch and job.faces:
            left, top, right, bottom = job.faces[0].box
            style_image = job.image[max(0, top) : bottom, max(0, left) : right]
        face = job.faces[0].embedding if (request.face_switch and job.faces) else None
        return {
            "model": model, "image": np.ascontiguousarray(image), "prompt": prompt, "seed": job.seed,
            "negative_prompt": request.negative_prompt or self.model.negative_prompt or DEFAULT_NEGATIVE,
            "steps": request.steps or self.model.steps, "cfg": request.cfg_scale if request.cfg_scale is not None else self.model.cfg,
            "strength": self.model.strength * max(0.05, float(request.strength)),
            "hyper": hyper if request.hyper_switch else None,
            "style_loras": [lora for lora in model["loras"] if lora.get("role", "style") == "style"
                            and lora.get("preset") == (job.preset.name if job.preset else None)],
            "style_image": None if style_image is None else np.ascontiguousarray(style_image),
            "face_embedding": None if face is None or not self.model.identity_adapter else np.asarray(face, np.float32),
        }  # fmt: skip

    def generate(self, job: EngineJob) -> EngineOutput:
        payload = self._job_payload(job)
        with self._lock:
            self._ensure_child()
            try:
                self._conn.send(payload)
            except OSError:  # it died between the check and the send
                code = self._process.poll() if self._process is not None else None
                self._stop_child()
                raise DiffusionEngineCrashed(
                    f"The diffusion child process died (exit code {code}); the task can be retried."
                ) from None
            if not self._conn.poll(self.timeout):
                self._stop_child()
                raise DiffusionEngineCrashed(
                    f"The diffusion engine took longer than {self.timeout:.0f} s; it was stopped."
                )
            status, value, info = self._receive()
        if status != "ok":
            raise RestyleError(str(info), code=str(value), status=500)
        image: np.ndarray = value
        h, w = job.image.shape[:2]
        if image.shape[:2] != (h, w):
            import cv2

            image = np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_CUBIC), np.uint8)
        return EngineOutput(
            image=image,
            info={"engine": self.name, "model": self.model.name, "seed": job.seed, "prompt": payload["prompt"],
                  "size": list(payload["image"].shape[1::-1]), **info},
            prompt_words_used=job.request.prompt.split(),
        )  # fmt: skip

    def healthcheck(self) -> dict[str, Any]:
        return {"engine": self.name, "ok": True, "model": self.model.name, "kind": self.model.kind,
                "child_alive": bool(self._process is not None and self._process.poll() is None)}  # fmt: skip
