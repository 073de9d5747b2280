"""The model catalogue (``models.toml``): named ONNX and diffusion models an operator owns.

Paths are relative to the catalogue file. ``load_catalogue`` checks structure and field values;
``check_catalogue`` (used by ``restyle doctor``) also opens every file and reads its shapes,
with no GPU and without torch: ONNX files load in onnxruntime, safetensors headers are parsed,
diffusers folders are read from ``model_index.json``.
"""

from __future__ import annotations

import json
import struct
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restyle.engines.onnx_model import OnnxModel, OnnxModelSpec
from restyle.errors import ConfigurationError

PIPELINE_KINDS = {"StableDiffusionPipeline": "sd15", "StableDiffusionImg2ImgPipeline": "sd15",
                  "StableDiffusionXLPipeline": "sdxl", "StableDiffusionXLImg2ImgPipeline": "sdxl"}  # fmt: skip
LORA_ROLES = ("hyper", "style")
_DIFFUSION_FIELDS = {"base", "kind", "scheduler", "steps", "cfg", "strength", "ip_adapter", "identity_adapter",
                     "loras", "presets", "negative_prompt"}  # fmt: skip


def _bad(where: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"Model catalogue: {where} {message}", param="engine.catalogue")


@dataclass(frozen=True)
class DiffusionModel:
    """One diffusion entry: a diffusers folder plus adapters, LoRAs, defaults and preset prompts."""

    name: str
    base: Path
    kind: str
    scheduler: str | None = None
    steps: int = 18
    cfg: float = 4.5
    strength: float = 0.55
    negative_prompt: str = ""
    ip_adapter: dict[str, Any] | None = None  # folder, weight_name, subfolder (default "models")
    identity_adapter: dict[str, Any] | None = None  # file (FaceID weights), embedder (ONNX folder or file)
    loras: list[dict[str, Any]] = field(default_factory=list)  # file, role (hyper|style), preset, scale
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> prompt, lora


@dataclass(frozen=True)
class Catalogue:
    """Everything a catalogue declares."""

    path: Path
    onnx: list[OnnxModelSpec]
    diffusion: dict[str, DiffusionModel]


def detect_kind(folder: Path) -> str:
    """``sd15`` or ``sdxl`` from a diffusers folder's ``model_index.json``."""
    index = folder / "model_index.json"
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError) as exc:
        raise _bad(
            f"'{folder}'", f"is not a diffusers pipeline folder: {index.name} cannot be read ({exc})."
        ) from None
    cls = str(data.get("_class_name", ""))
    if cls not in PIPELINE_KINDS:
        raise _bad(f"'{folder}'", f"holds a '{cls}'; supported: {', '.join(sorted(PIPELINE_KINDS))}.")
    return PIPELINE_KINDS[cls]


def _resolve(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise _bad(where, "needs a path (a non-empty string).")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _diffusion_entry(name: str, raw: dict[str, Any], base: Path) -> DiffusionModel:
    where = f"[diffusion.{name}]"
    unknown = sorted(set(raw) - _DIFFUSION_FIELDS)
    if unknown:
        raise _bad(
            where, f"has unknown field '{unknown[0]}'; fields are {', '.join(sorted(_DIFFUSION_FIELDS))}."
        )
    folder = _resolve(base, raw.get("base"), f"{where} base")
    kind = raw.get("kind")
    if kind is not None and kind not in ("sd15", "sdxl"):
        raise _bad(f"{where} kind", f"is '{kind}'; choose sd15 or sdxl.")
    loras = []
    for i, lora in enumerate(raw.get("loras", [])):
        if lora.get("role", "style") not in LORA_ROLES:
            raise _bad(
                f"{where} loras[{i}].role", f"is '{lora.get('role')}'; choose one of {', '.join(LORA_ROLES)}."
            )
        loras.append({**lora, "file": _resolve(base, lora.get("file"), f"{where} loras[{i}].file")})
    adapters: dict[str, dict[str, Any] | None] = {}
    for key, path_keys in (("ip_adapter", ("folder",)), ("identity_adapter", ("file", "embedder"))):
        entry = raw.get(key)
        adapters[key] = None if entry is None else {
            **entry, **{k: _resolve(base, entry.get(k), f"{where} {key}.{k}") for k in path_keys}
        }  # fmt: skip
    for field_name, low, high in (("steps", 1, 100), ("cfg", 0.0, 30.0), ("strength", 0.0, 1.0)):
        value = raw.get(field_name)
        if value is not None and not (isinstance(value, int | float) and low <= value <= high):
            raise _bad(f"{where} {field_name}", f"is {value!r}; give a number in {low}..{high}.")
    return DiffusionModel(
        name=name, base=folder, kind=kind or "", scheduler=raw.get("scheduler"),
        steps=int(raw.get("steps", 18)), cfg=float(raw.get("cfg", 4.5)), strength=float(raw.get("strength", 0.55)),
        negative_prompt=str(raw.get("negative_prompt", "")), loras=loras, presets=dict(raw.get("presets", {})),
        ip_adapter=adapters["ip_adapter"], identity_adapter=adapters["identity_adapter"],
    )  # fmt: skip


def load_catalogue(path: Path) -> Catalogue:
    """Parse and structurally check the catalogue at ``path`` (no model file is opened)."""
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise _bad(f"'{path}'", f"cannot be read ({exc.strerror or exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(f"'{path}'", f"is not valid TOML ({exc}).") from None
    unknown = sorted(set(raw) - {"onnx", "diffusion"})
    if unknown:
        raise _bad(
            f"'{path}'",
            f"has unknown section [{unknown[0]}]; the sections are [onnx.NAME], [diffusion.NAME].",
        )
    base = path.parent
    onnx = [OnnxModelSpec.from_mapping({"name": n, **v}, base) for n, v in raw.get("onnx", {}).items()]
    diffusion = {n: _diffusion_entry(n, v, base) for n, v in raw.get("diffusion", {}).items()}
    return Catalogue(path=path, onnx=onnx, diffusion=diffusion)


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor name -> shape from a .safetensors header (no torch, no weights read)."""
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > 100_000_000:
                raise ValueError(f"header length {length} is implausible")
            header = json.loads(handle.read(length))
    except (OSError, ValueError, struct.error) as exc:
        raise _bad(f"'{path}'", f"is not a readable safetensors file ({exc}).") from None
    return {k: v["shape"] for k, v in header.items() if k != "__metadata__"}


def _check_diffusion(model: DiffusionModel) -> str:
    where = f"[diffusion.{model.name}]"
    kind = detect_kind(model.base)
    if model.kind and model.kind != kind:
        raise _bad(f"{where} kind", f"says {model.kind} but '{model.base}' holds an {kind} pipeline.")
    index = json.loads((model.base / "model_index.json").read_text())
    for part, value in index.items():
        if isinstance(value, list) and value[0] and not (model.base / part).is_dir():
            raise _bad(
                f"{where} base", f"'{model.base}' lacks the '{part}' folder named in model_index.json."
            )
    tensors = 0
    for lora in model.loras:
        tensors += len(safetensors_shapes(lora["file"]))
    if model.ip_adapter is not None:
        folder = model.ip_adapter["folder"] / model.ip_adapter.get("subfolder", "models")
        weight = folder / str(model.ip_adapter.get("weight_name", "ip-adapter.safetensors"))
        shapes = safetensors_shapes(weight)
        if not any(k.startswith("image_proj.") for k in shapes):
            raise _bad(f"{where} ip_adapter", f"'{weight}' has no image_proj.* tensors; is it an IP-Adapter?")
        tensors += len(shapes)
    if model.identity_adapter is not None:
        tensors += len(safetensors_shapes(model.identity_adapter["file"]))
        if not model.identity_adapter["embedder"].exists():
            raise _bad(
                f"{where} identity_adapter.embedder",
                f"'{model.identity_adapter['embedder']}' does not exist.",
            )
    return f"{kind} at {model.base}, {len(model.loras)} LoRA(s), {tensors} adapter tensors"


def check_catalogue(path: Path) -> dict[str, str]:
    """Load every model of the catalogue far enough to read its shapes; model name -> summary."""
    catalogue = load_catalogue(path)
    report: dict[str, str] = {}
    for spec in catalogue.onnx:
        model = OnnxModel(spec)
        report[f"onnx.{spec.name}"] = f"{spec.file.name} input '{model.input_name}' {spec.layout} {spec.mode}"
    for name, entry in catalogue.diffusion.items():
        report[f"diffusion.{name}"] = _check_diffusion(entry)
    return report
