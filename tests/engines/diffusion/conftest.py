"""Tiny diffusion models built once per session (cached in a session temp folder); 1 torch thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

torch = pytest.importorskip("torch", reason="the diffusion extra (torch, diffusers) is not installed")
pytest.importorskip("diffusers")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.engines.diffusion.tiny import (
        build_pipeline,
        write_faceid_adapter,
        write_ip_adapter,
        write_kohya_lora,
    )

    root = tmp_path_factory.mktemp("tiny_diffusion")
    sd15 = build_pipeline(root / "sd15", "sd15")
    sdxl = build_pipeline(root / "sdxl", "sdxl")
    return {
        "root": root,
        "sd15": sd15,
        "sdxl": sdxl,
        "hyper": write_kohya_lora(root / "hyper.safetensors", sd15),
        "ip": write_ip_adapter(root / "ip", sd15),
        "faceid": write_faceid_adapter(root / "faceid" / "ip-adapter-faceid_tiny.safetensors", sd15),
    }
