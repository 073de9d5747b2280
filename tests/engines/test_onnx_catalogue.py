"""Model catalogue (models.toml): loading, the doctor's shape checks on a good and a broken catalogue."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from restyle.engines.catalogue import check_catalogue, load_catalogue
from restyle.engines.onnx import OnnxEngine
from restyle.errors import ConfigurationError
from tests.engines.test_onnx import write_model


def write_safetensors(path: Path, tensors: dict[str, tuple[int, ...]]) -> Path:
    """A valid float32 safetensors file of zeros with the given names and shapes (no torch needed)."""
    header: dict[str, object] = {}
    offset = 0
    for name, shape in tensors.items():
        size = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))
    return path


def write_pipeline_folder(folder: Path, cls: str) -> Path:
    parts = ["unet", "vae", "text_encoder", "tokenizer", "scheduler"]
    index = {"_class_name": cls, **{p: ["diffusers", "X"] for p in parts}}
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps(index))
    for part in parts:
        (folder / part).mkdir()
    return folder


GOOD = """
[onnx.anime_face]
file = "models/nhwc.onnx"
layout = "NHWC"
value_range = "0,1"
mode = "face"
title = "Anime face"

[onnx.paint]
file = "models/nchw.onnx"

[diffusion.portrait]
base = "sd15"
kind = "sd15"
steps = 18
cfg = 4.5
ip_adapter = { folder = "ip", weight_name = "ip-adapter_sd15.safetensors" }
identity_adapter = { file = "faceid.safetensors", embedder = "embedder.onnx" }
loras = [{ file = "hyper.safetensors", role = "hyper", scale = 1.0 }]
presets.anime = { prompt = "anime portrait of {subject}" }
"""


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    (tmp_path / "models").mkdir()
    write_model(tmp_path / "models" / "nhwc.onnx", "NHWC", value_range="0,1")
    write_model(tmp_path / "models" / "nchw.onnx", "NCHW")
    write_model(tmp_path / "embedder.onnx", "NCHW")
    write_pipeline_folder(tmp_path / "sd15", "StableDiffusionPipeline")
    write_safetensors(
        tmp_path / "ip" / "models" / "ip-adapter_sd15.safetensors", {"image_proj.proj.weight": (128, 32)}
    )
    write_safetensors(tmp_path / "faceid.safetensors", {"image_proj.proj.0.weight": (64, 512)})
    write_safetensors(tmp_path / "hyper.safetensors", {"lora_unet_mid_block.lora_down.weight": (4, 64)})
    path = tmp_path / "models.toml"
    path.write_text(GOOD)
    return path


def test_good_catalogue_loads_and_checks(good: Path) -> None:
    catalogue = load_catalogue(good)
    assert [s.name for s in catalogue.onnx] == ["anime_face", "paint"]
    assert catalogue.diffusion["portrait"].loras[0]["role"] == "hyper"
    report = check_catalogue(good)
    assert set(report) == {"onnx.anime_face", "onnx.paint", "diffusion.portrait"}
    assert "sd15" in report["diffusion.portrait"]
    engine = OnnxEngine(catalogue=str(good))
    assert [p.name for p in engine.presets()] == ["anime_face", "paint"]
    assert engine.presets()[0].title_en == "Anime face"


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda p: (p / "models" / "nchw.onnx").unlink(), ["paint", "does not exist"]),
        (lambda p: (p / "sd15" / "model_index.json").write_text('{"_class_name": "StableDiffusionXLPipeline"}'),
         ["kind", "sd15", "sdxl"]),
        (lambda p: (p / "sd15" / "unet").rmdir(), ["lacks the 'unet' folder"]),
        (lambda p: write_safetensors(p / "ip" / "models" / "ip-adapter_sd15.safetensors", {"x": (1,)}),
         ["image_proj"]),
        (lambda p: (p / "hyper.safetensors").write_bytes(b"\x00"), ["hyper.safetensors", "safetensors"]),
        (lambda p: (p / "embedder.onnx").unlink(), ["embedder", "does not exist"]),
        (lambda p: (p / "models.toml").write_text(GOOD + "\n[gpu]\n"), ["unknown section [gpu]"]),
        (lambda p: (p / "models.toml").write_text(GOOD.replace('role = "hyper"', 'role = "turbo"')), ["role", "turbo"]),
        (lambda p: (p / "models.toml").write_text(GOOD.replace("cfg = 4.5", "cfg = 99")), ["cfg", "99"]),
        (lambda p: (p / "models.toml").write_text("[onnx.x\n"), ["not valid TOML"]),
    ],
)  # fmt: skip
def test_broken_catalogue_names_the_problem(good: Path, edit, words: list[str]) -> None:
    edit(good.parent)
    with pytest.raises(ConfigurationError) as caught:
        check_catalogue(good)
    for word in words:
        assert word in caught.value.message


def _doctor(catalogue: Path, tmp_path: Path) -> tuple[int, dict]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "RESTYLE_DATA_DIR": str(tmp_path),
    }
    command = [sys.executable, "-m", "restyle.cli", "doctor", "--json", "--catalogue", str(catalogue)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    row = next(r for r in report["required"] if r["check"] == "model catalogue")
    return done.returncode, row


def test_doctor_on_good_and_broken_catalogue(good: Path, tmp_path: Path) -> None:
    code, row = _doctor(good, tmp_path)
    assert row["ok"] is True and "diffusion.portrait" in row["detail"]
    (good.parent / "hyper.safetensors").unlink()
    code, row = _doctor(good, tmp_path)
    assert code == 1 and row["ok"] is False and "hyper.safetensors" in row["detail"]
