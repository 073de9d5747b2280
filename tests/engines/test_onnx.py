"""ONNX engine: tiny models written with onnx.helper, both layouts, both modes, bad declarations, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from restyle.domain import GenerateRequest, ImageSource
from restyle.engines.base import EngineJob
from restyle.engines.onnx import OnnxEngine
from restyle.errors import ConfigurationError
from tests.conftest import encode_png

# The model sets its channel 0 to the range minimum and keeps channels 1 and 2: with RGB declared the
# red channel goes black; with BGR declared, blue does. So the test sees layout, order and range at once.
_KEEP = np.diag([0.0, 1.0, 1.0]).astype(np.float32)


def write_model(path: Path, layout: str, value_range: str = "-1,1", input_name: str = "image") -> Path:
    """A one-op model: 1x1 Conv (NCHW) or MatMul on the last axis (NHWC) plus a bias."""
    low = -1.0 if value_range == "-1,1" else 0.0
    bias = np.array([low, 0.0, 0.0], np.float32)
    if layout == "NCHW":
        shape = [1, 3, "h", "w"]
        weight = helper.make_tensor("w", TensorProto.FLOAT, [3, 3, 1, 1], _KEEP.reshape(-1).tolist())
        b = helper.make_tensor("b", TensorProto.FLOAT, [3], bias.tolist())
        nodes = [helper.make_node("Conv", [input_name, "w", "b"], ["out"])]
    else:
        shape = [1, "h", "w", 3]
        weight = helper.make_tensor("w", TensorProto.FLOAT, [3, 3], _KEEP.T.reshape(-1).tolist())
        b = helper.make_tensor("b", TensorProto.FLOAT, [3], bias.tolist())
        nodes = [
            helper.make_node("MatMul", [input_name, "w"], ["mm"]),
            helper.make_node("Add", ["mm", "b"], ["out"]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny_style",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, shape)],
        initializer=[weight, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "nchw": write_model(folder / "nchw.onnx", "NCHW"),
        "nhwc": write_model(folder / "nhwc.onnx", "NHWC", value_range="0,1", input_name="input_1"),
    }


def _job(engine: OnnxEngine, image: np.ndarray, faces: list, style: str | None = None) -> EngineJob:
    preset = engine.catalog().find(style) if style else engine.presets()[0]
    request = GenerateRequest(image=ImageSource(data=b""), style=preset.name)
    return EngineJob(request=request, image=image, faces=faces, seed=1, preset=preset)


def test_nchw_full_mode_rgb_zeroes_red(models: dict[str, Path], astronaut_small: np.ndarray) -> None:
    engine = OnnxEngine(model=str(models["nchw"]))
    out = engine.generate(_job(engine, astronaut_small, [])).image
    assert out.shape == astronaut_small.shape and out.dtype == np.uint8
    assert out[..., 0].max() == 0
    assert np.abs(out[..., 1:].astype(int) - astronaut_small[..., 1:]).max() <= 1
    assert [p.name for p in engine.presets()] == ["nchw"]


def test_nhwc_bgr_zero_one_range_zeroes_blue(models: dict[str, Path], astronaut_small: np.ndarray) -> None:
    engine = OnnxEngine(model=str(models["nhwc"]), layout="NHWC", channels="BGR", value_range="0,1")
    out = engine.generate(_job(engine, astronaut_small, [])).image
    assert out[..., 2].max() == 0
    assert np.abs(out[..., :2].astype(int) - astronaut_small[..., :2]).max() <= 1


def test_odd_size_is_snapped_and_restored(models: dict[str, Path], astronaut_small: np.ndarray) -> None:
    engine = OnnxEngine(model=str(models["nchw"]), size_multiple=32, max_side=128)
    image = np.ascontiguousarray(astronaut_small[:301, :257])
    assert engine.model("nchw").working_size(257, 301) == (96, 128)
    out = engine.generate(_job(engine, image, [])).image
    assert out.shape == image.shape and out[..., 0].max() <= 2


@pytest.mark.parametrize("key", ["nchw", "nhwc"])
def test_face_mode_changes_only_the_face(models: dict[str, Path], grace_hopper: np.ndarray, key: str) -> None:
    from restyle.faces import detect_faces

    image = np.ascontiguousarray(grace_hopper)
    faces = detect_faces(image)
    assert faces
    layout = "NCHW" if key == "nchw" else "NHWC"
    engine = OnnxEngine(
        models=[{"name": "face_paint", "file": str(models[key]), "layout": layout, "mode": "face",
                 "value_range": "-1,1" if key == "nchw" else "0,1", "face_size": 256}]
    )  # fmt: skip
    out = engine.generate(_job(engine, image, faces)).image
    left, top, right, bottom = faces[0].box
    cx, cy = (left + right) // 2, (top + bottom) // 2
    # the face centre lost its red, a far corner is untouched
    assert (
        out[cy - 5 : cy + 5, cx - 5 : cx + 5, 0].max() < 30 < image[cy - 5 : cy + 5, cx - 5 : cx + 5, 0].min()
    )
    assert np.array_equal(out[:10, :10], image[:10, :10])
    # no face: the image comes back as it was
    assert np.array_equal(engine.generate(_job(engine, image, [])).image, image)


def test_strength_blends_with_the_photo(models: dict[str, Path], astronaut_small: np.ndarray) -> None:
    engine = OnnxEngine(model=str(models["nchw"]))
    job = _job(engine, astronaut_small, [])
    job.request = GenerateRequest(image=ImageSource(data=b""), strength=0.5)
    out = engine.generate(job).image
    expected = (astronaut_small[..., 0].astype(np.float32) * 0.5 + 0.5).astype(np.uint8)
    assert np.abs(out[..., 0].astype(int) - expected).max() <= 1


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"layout": "NHWC"}, ["layout", "NCHW"]),  # an NCHW model declared NHWC
        ({"layout": "NCWH"}, ["layout", "NCHW, NHWC"]),
        ({"channels": "RGBA"}, ["channels", "RGB, BGR"]),
        ({"value_range": "0,255"}, ["value_range", "-1,1"]),
        ({"mode": "body"}, ["mode", "full, face"]),
        ({"size_multiple": 0}, ["size_multiple", "at least 1"]),
        ({"input_name": "pixels"}, ["input_name", "'pixels'", "image"]),
        ({"colour": "x"}, ["colour", "not a known field"]),
    ],
)
def test_bad_declarations_name_the_field(models: dict[str, Path], options: dict, words: list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        OnnxEngine(model=str(models["nchw"]), **options).setup()
    for word in words:
        assert word in caught.value.message
    assert caught.value.param is not None and caught.value.param.startswith("onnx.")


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        OnnxEngine(model=str(tmp_path / "none.onnx")).setup()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ConfigurationError, match="not a loadable ONNX model"):
        OnnxEngine(model=str(broken)).setup()
    with pytest.raises(ConfigurationError, match="needs a model"):
        OnnxEngine()


def test_cli_run_with_onnx_engine(
    models: dict[str, Path], tmp_path: Path, astronaut_small: np.ndarray
) -> None:
    photo = tmp_path / "me.png"
    photo.write_bytes(encode_png(astronaut_small))
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "RESTYLE_DATA_DIR": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "restyle.cli",
            "run",
            str(photo),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ]
        return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=300)

    done = run("--engine", "onnx", "--model", str(models["nhwc"]), "--layout", "NHWC",
               "--engine-option", "value_range=0,1", "--style", "nhwc", "--no-guard", "--hd", "0", "--beautify", "0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.splitlines()[-1])
    assert line["style"] == "nhwc" and Path(line["path"]).is_file()
    from PIL import Image

    written = np.asarray(Image.open(line["path"]).convert("RGB"))
    assert written[..., 0].mean() < 8 < written[..., 1].mean()  # the model's red-free look came through
    bad = run("--engine", "onnx", "--model", str(models["nhwc"]))  # NHWC model, default NCHW layout
    assert bad.returncode == 2
    error = json.loads(bad.stdout.splitlines()[-1])["error"]
    assert error["code"] == "server.config" and "layout" in error["message"]
