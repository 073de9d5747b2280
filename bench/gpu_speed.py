"""Diffusion engine speed on a real GPU: images/s and peak GPU memory per preset, plain vs hyper.

    python bench/gpu_speed.py --catalogue /srv/restyle/models.toml [--model NAME] [--images 8] [--side 1024]

Without a CUDA GPU it says "no GPU" and exits 0. The baseline in the same run is the model's first
preset at its default steps; every other row is a ratio of it. Writes bench/reports/gpu_speed.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np


def _gpu() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", required=False)
    parser.add_argument("--model", default=None)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--side", type=int, default=1024)
    args = parser.parse_args(argv)
    gpu = _gpu()
    if gpu is None:
        print("no GPU: torch with CUDA is not available on this machine; nothing measured.")
        return 0
    if not args.catalogue:
        parser.error("--catalogue is required when a GPU is present")
    import torch

    from restyle.domain import GenerateRequest, ImageSource
    from restyle.engines.base import EngineJob
    from restyle.engines.diffusion import DiffusionEngine

    engine = DiffusionEngine(model=args.model, catalogue=args.catalogue, device="cuda", max_side=args.side)
    has_hyper = any(lora.get("role") == "hyper" for lora in engine.model.loras)
    photo = (np.random.default_rng(0).random((args.side, args.side * 3 // 4, 3)) * 255).astype(np.uint8)
    rows: list[tuple[str, str, float, float]] = []
    try:
        engine.setup()
        for preset in engine.presets():
            for hyper in (False, True) if has_hyper else (False,):
                request = GenerateRequest(image=ImageSource(data=b""), hyper_switch=hyper)
                job = EngineJob(request=request, image=photo, faces=[], seed=1, preset=preset)
                engine.generate(job)  # warm-up: load, compile kernels
                start = time.perf_counter()
                peak = 0.0
                for seed in range(args.images):
                    job.seed = seed
                    # the child measures its own peak GPU memory per image and resets it
                    peak = max(peak, float(engine.generate(job).info.get("peak_gpu_mb", 0.0)))
                seconds = time.perf_counter() - start
                rows.append((preset.name, "hyper" if hyper else "plain", args.images / seconds, peak))
    finally:
        engine.close()
    base = rows[0][2]
    lines = [
        f"# Diffusion speed on {gpu}",
        "",
        f"Model `{engine.model.name}` ({engine.model.kind}), {args.images} images per row at {args.side} px, "
        f"python {platform.python_version()}, torch {torch.__version__}.",
        "",
        "| preset | mode | images/s | ratio to first row | peak GPU MB |",
        "|---|---|---|---|---|",
        *[f"| {p} | {m} | {ips:.2f} | {ips / base:.2f} | {mb:.0f} |" for p, m, ips, mb in rows],
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    out = Path(__file__).parent / "reports" / "gpu_speed.md"
    out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
