"""Diffusion engine on CPU with tiny seeded models: SD1.5/SDXL img2img, seeds, hyper LoRA, child crash."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from restyle.domain import GenerateRequest, ImageSource
from restyle.engines.base import EngineJob
from restyle.engines.diffusion import DiffusionEngine, DiffusionEngineCrashed, snap_size
from restyle.errors import ConfigurationError

PHOTO = (np.random.default_rng(0).random((120, 100, 3)) * 255).astype(np.uint8)


def job(engine: DiffusionEngine, seed: int = 7, **fields: Any) -> EngineJob:
    request = GenerateRequest(image=ImageSource(data=b""), prompt="portrait", **{"steps": 4, **fields})
    return EngineJob(request=request, image=PHOTO, faces=[], seed=seed, preset=engine.presets()[0])


@pytest.fixture(scope="module")
def sd15(tiny_models: dict[str, Path]) -> Iterator[DiffusionEngine]:
    catalogue = tiny_models["root"] / "models.toml"
    catalogue.write_text(
        '[diffusion.tiny]\nbase = "sd15"\nsteps = 4\n'
        'loras = [{ file = "hyper.safetensors", role = "hyper", steps = 2, scheduler = "LCMScheduler" }]\n'
        'ip_adapter = { folder = "ip", weight_name = "ip-adapter_tiny.safetensors" }\n'
        'presets.anime = { prompt = "anime portrait, {prompt}" }\n'
    )
    engine = DiffusionEngine(model="tiny", catalogue=str(catalogue))
    yield engine
    engine.close()


def test_sd15_img2img_is_deterministic_per_seed(sd15: DiffusionEngine) -> None:
    first = sd15.generate(job(sd15, seed=7))
    again = sd15.generate(job(sd15, seed=7))
    other = sd15.generate(job(sd15, seed=8))
    assert first.image.shape == PHOTO.shape and first.image.dtype == np.uint8
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)
    assert not np.array_equal(first.image, PHOTO)
    assert first.info["seed"] == 7 and first.info["size"] == [104, 120]
    assert first.info["prompt"] == "anime portrait, portrait" and first.info["steps"] == 4


def test_hyper_lora_in_kohya_format_overrides_steps_and_cfg(sd15: DiffusionEngine) -> None:
    plain = sd15.generate(job(sd15, steps=2, cfg_scale=1.0))
    hyper = sd15.generate(job(sd15, hyper_switch=True, steps=30, cfg_scale=9.0))
    assert hyper.info["hyper"] is True and hyper.info["steps"] == 2 and hyper.info["cfg"] == 1.0
    assert not np.array_equal(plain.image, hyper.image)  # the fused LoRA changed the UNet
    # and it was unfused afterwards: the plain result comes back (unfusing rounds at float32 precision)
    after = sd15.generate(job(sd15, steps=2, cfg_scale=1.0)).image
    assert np.abs(after.astype(int) - plain.image).max() <= 1


def test_style_image_goes_through_the_ip_adapter(sd15: DiffusionEngine) -> None:
    style = (np.random.default_rng(5).random((64, 64, 3)) * 255).astype(np.uint8)
    plain = sd15.generate(job(sd15, steps=3))
    styled_job = job(sd15, steps=3)
    styled_job.style_image = style
    styled = sd15.generate(styled_job)
    assert styled.info["adapters"] == ["style"]
    assert np.abs(styled.image.astype(int) - plain.image).mean() > 1.0
    off_job = job(sd15, steps=3, style_switch=False)
    off_job.style_image = style
    assert "adapters" not in sd15.generate(off_job).info  # style_switch off: the image is not used
    # the adapter was unloaded after the job: the plain result comes back
    assert np.array_equal(sd15.generate(job(sd15, steps=3)).image, plain.image)


def test_child_crash_fails_the_job_cleanly_and_the_next_job_runs(sd15: DiffusionEngine) -> None:
    sd15.setup()
    pid = sd15.child_pid
    assert pid is not None
    outcome: dict[str, Any] = {}

    def long_job() -> None:
        try:
            sd15.generate(job(sd15, steps=400))
        except DiffusionEngineCrashed as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=long_job)
    thread.start()
    time.sleep(1.5)  # the child is busy denoising
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert isinstance(outcome.get("error"), DiffusionEngineCrashed)
    assert outcome["error"].code == "engine.crashed" and outcome["error"].status == 503
    assert sd15.generate(job(sd15)).image.shape == PHOTO.shape  # a fresh child took over
    assert sd15.child_pid != pid


def test_sdxl_folder_path_snaps_to_64(tiny_models: dict[str, Path]) -> None:
    engine = DiffusionEngine(model=str(tiny_models["sdxl"]))
    try:
        assert engine.model.kind == "sdxl" and engine.multiple == 64
        out = engine.generate(job(engine, steps=3))
        assert out.image.shape == PHOTO.shape and out.info["size"] == [128, 128]
    finally:
        engine.close()


def test_sizes_and_bad_models(tmp_path: Path) -> None:
    assert snap_size(1000, 1500, 64, 1024) == (704, 1024)
    assert snap_size(100, 120, 8, 1024) == (104, 120)
    with pytest.raises(ConfigurationError, match="neither a catalogue name"):
        DiffusionEngine(model=str(tmp_path / "nothing"))
    (tmp_path / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    with pytest.raises(ConfigurationError, match="FluxPipeline"):
        DiffusionEngine(model=str(tmp_path))


def test_face_embedding_feeds_the_identity_adapter(tiny_models: dict[str, Path]) -> None:
    from restyle.faces.types import Face

    catalogue = tiny_models["root"] / "faceid.toml"
    catalogue.write_text(
        '[diffusion.faceid]\nbase = "sd15"\n'
        'identity_adapter = { file = "faceid/ip-adapter-faceid_tiny.safetensors", embedder = "faceid" }\n'
    )
    engine = DiffusionEngine(catalogue=str(catalogue))
    try:
        rng = np.random.default_rng(4)
        face = Face(
            box=(20, 20, 80, 90), landmarks=np.zeros((68, 2), np.float32), embedding=rng.normal(size=16)
        )
        other = Face(
            box=(20, 20, 80, 90), landmarks=np.zeros((68, 2), np.float32), embedding=rng.normal(size=16)
        )
        with_face = job(engine, steps=3)
        with_face.faces = [face]
        first = engine.generate(with_face)
        assert first.info["adapters"] == ["face"]
        with_other = job(engine, steps=3)
        with_other.faces = [other]
        assert np.abs(engine.generate(with_other).image.astype(int) - first.image).mean() > 0.5
        no_guard = job(engine, steps=3, face_switch=False)
        no_guard.faces = [face]
        assert "adapters" not in engine.generate(no_guard).info
    finally:
        engine.close()


def test_preset_style_lora_applies_to_its_preset_only(tiny_models: dict[str, Path]) -> None:
    catalogue = tiny_models["root"] / "styles.toml"
    catalogue.write_text(
        '[diffusion.styled]\nbase = "sd15"\n'
        'loras = [{ file = "hyper.safetensors", role = "style", preset = "ink", scale = 1.0 }]\n'
        'presets.ink = { prompt = "ink portrait, {prompt}" }\npresets.plain = { prompt = "{prompt}" }\n'
    )
    engine = DiffusionEngine(catalogue=str(catalogue))
    try:
        ink, plain = engine.catalog().find("ink"), engine.catalog().find("plain")
        styled = job(engine, steps=3)
        styled.preset = ink
        first = engine.generate(styled)
        assert first.info["style_loras"] == 1
        other = job(engine, steps=3)
        other.preset = plain
        assert "style_loras" not in engine.generate(other).info
    finally:
        engine.close()


def test_a_child_that_died_while_idle_is_replaced_and_its_pipes_released(sd15: DiffusionEngine) -> None:
    sd15.setup()
    pid = sd15.child_pid
    assert pid is not None
    old_conn = sd15._conn
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while sd15._process is not None and sd15._process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sd15.generate(job(sd15)).image.shape == PHOTO.shape  # a fresh child, no BrokenPipeError
    assert sd15.child_pid not in (None, pid)
    assert old_conn.reader.closed and old_conn.writer.closed  # the dead child's pipes were closed
