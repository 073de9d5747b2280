"""The diffusion engine's child process: the only place torch and diffusers are imported.

The parent (:mod:`restyle.engines.diffusion`) sends one job dict at a time over a pipe and gets back
``("ok", image, info)`` or ``("error", code, message)``. Pipelines stay warm in an LRU of ``max_models``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from multiprocessing.connection import Connection
from typing import Any

import numpy as np


class _Runtime:
    """Warm pipelines keyed by model name, loaded lazily, least recently used dropped first."""

    def __init__(self, settings: dict[str, Any]) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(int(settings.get("threads", 1)))
        self.device = str(settings.get("device", "cpu"))
        default_dtype = "float32" if self.device == "cpu" else "float16"
        self.dtype = getattr(torch, str(settings.get("dtype") or default_dtype))
        self.attention_slicing = bool(settings.get("attention_slicing", False))
        self.max_models = int(settings.get("max_models", 2))
        self.pipes: OrderedDict[str, Any] = OrderedDict()

    def pipe(self, model: dict[str, Any]) -> Any:
        name = model["name"]
        if name in self.pipes:
            self.pipes.move_to_end(name)
            return self.pipes[name]
        import diffusers

        cls = (
            diffusers.StableDiffusionXLImg2ImgPipeline
            if model["kind"] == "sdxl"
            else diffusers.StableDiffusionImg2ImgPipeline
        )
        extra = {"requires_aesthetics_score": False} if model["kind"] == "sdxl" else {"safety_checker": None}
        pipe = cls.from_pretrained(  # type: ignore[no-untyped-call]
            model["base"], local_files_only=True, dtype=self.dtype, **extra
        )
        if model.get("scheduler"):
            pipe.scheduler = getattr(diffusers, model["scheduler"]).from_config(pipe.scheduler.config)
        pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        if self.attention_slicing:
            pipe.enable_attention_slicing()
        pipe._restyle_scheduler = pipe.scheduler  # the default to return to after a hyper job
        self.pipes[name] = pipe
        while len(self.pipes) > self.max_models:
            self.pipes.popitem(last=False)
        return pipe

    def run(self, job: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """1. pipeline, 2. adapters/LoRA for this job, 3. img2img, 4. undo the per-job changes."""
        from PIL import Image

        torch = self.torch
        model = job["model"]
        pipe = self.pipe(model)
        steps, cfg = int(job["steps"]), float(job["cfg"])
        kwargs: dict[str, Any] = {}
        info: dict[str, Any] = {}
        hyper = job.get("hyper")
        style = job.get("style_image")
        face_embedding = job.get("face_embedding")
        adapters: list[tuple[str, dict[str, Any], float]] = []
        style_loras: list[dict[str, Any]] = list(job.get("style_loras") or [])
        try:
            if hyper is not None:
                import diffusers

                pipe.load_lora_weights(hyper["file"], adapter_name="hyper")
                pipe.fuse_lora(lora_scale=float(hyper.get("scale", 1.0)))
                pipe.scheduler = getattr(diffusers, hyper.get("scheduler", "LCMScheduler")).from_config(
                    pipe.scheduler.config
                )
                steps, cfg = int(hyper.get("steps", 4)), float(hyper.get("cfg", 1.0))
                info["hyper"] = True
            for number, lora in enumerate(style_loras):  # the preset's own LoRAs, fused for this job only
                pipe.load_lora_weights(lora["file"], adapter_name=f"style_{number}")
                pipe.fuse_lora(lora_scale=float(lora.get("scale", 1.0)), adapter_names=[f"style_{number}"])
            if style_loras:
                info["style_loras"] = len(style_loras)
            if style is not None and model.get("ip_adapter"):
                adapters.append(("style", model["ip_adapter"], float(job.get("style_scale", 0.6))))
            if face_embedding is not None and model.get("identity_adapter"):
                adapters.append(("face", model["identity_adapter"], float(job.get("face_scale", 0.6))))
            if adapters:
                self._load_adapters(pipe, adapters)
                kwargs.update(self._adapter_inputs(pipe, adapters, style, face_embedding, cfg > 1.0))
                info["adapters"] = [a[0] for a in adapters]
            generator = torch.Generator(device="cpu").manual_seed(int(job["seed"]))
            result = pipe(
                prompt=job["prompt"],
                negative_prompt=job.get("negative_prompt") or None,
                image=Image.fromarray(job["image"]),
                strength=float(job["strength"]),
                num_inference_steps=steps,
                guidance_scale=cfg,
                generator=generator,
                output_type="np",
                **kwargs,
            )
        finally:
            if hyper is not None or style_loras:
                pipe.unfuse_lora()
                pipe.unload_lora_weights()
            if hyper is not None:
                pipe.scheduler = pipe._restyle_scheduler
            if adapters and getattr(pipe.unet, "encoder_hid_proj", None) is not None:
                pipe.unload_ip_adapter()
                pipe.unload_lora_weights()  # FaceID's LoRA outlives unload_ip_adapter
        image = np.clip(result.images[0] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        info.update(steps=steps, cfg=cfg)
        if self.device.startswith("cuda"):
            info["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
            torch.cuda.reset_peak_memory_stats()
        return image, info

    def _load_adapters(self, pipe: Any, adapters: list[tuple[str, dict[str, Any], float]]) -> None:
        folders, subfolders, weights, encoder = [], [], [], "image_encoder"
        for kind, entry, _ in adapters:
            if kind == "style":
                folders.append(entry["folder"])
                subfolders.append(entry.get("subfolder", "models"))
                weights.append(entry.get("weight_name", "ip-adapter.safetensors"))
            else:
                folders.append(os.path.dirname(entry["file"]))
                subfolders.append("")
                weights.append(os.path.basename(entry["file"]))
        if all(kind == "face" for kind, _, _ in adapters):
            encoder = None  # type: ignore[assignment]
        pipe.load_ip_adapter(folders, subfolder=subfolders, weight_name=weights, image_encoder_folder=encoder)
        pipe.set_ip_adapter_scale([scale for _, _, scale in adapters])

    def _adapter_inputs(
        self, pipe: Any, adapters: list[tuple[str, dict[str, Any], float]], style: Any, face: Any, cfg: bool
    ) -> dict[str, Any]:
        """Per-adapter image embeddings: the style image through the encoder, the face embedding as given."""
        from PIL import Image

        torch = self.torch
        embeds = []
        for kind, _, _ in adapters:
            if kind == "style":
                positive, negative = pipe.encode_image(Image.fromarray(style), self.device, 1)
                if positive.dim() == 2:  # plain adapters: (batch, dim) -> (batch, images, dim)
                    positive, negative = positive[:, None], negative[:, None]
                embeds.append(torch.cat([negative, positive]) if cfg else positive)
            else:
                vector = (
                    torch.tensor(np.asarray(face, np.float32)).reshape(1, 1, -1).to(self.device, self.dtype)
                )
                embeds.append(torch.cat([torch.zeros_like(vector), vector]) if cfg else vector)
        return {"ip_adapter_image_embeds": embeds}


def serve(conn: Any, settings: dict[str, Any]) -> None:
    """Child entry point: answer jobs until the pipe closes."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runtime = _Runtime(settings)
    conn.send(("ready", None, None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            image, info = runtime.run(job)
            conn.send(("ok", image, info))
        except MemoryError:
            conn.send(("error", "engine.out_of_memory", "The diffusion engine ran out of memory."))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent as a typed error
            conn.send(("error", "engine.failed", f"The diffusion engine failed: {type(exc).__name__}: {exc}"))


def main() -> None:
    """``python -m restyle.engines.diffusion_worker SETTINGS_JSON``: frames on stdin/stdout, logs on stderr."""
    import json
    import sys

    from restyle.engines.child_pipe import Duplex

    reader = Connection(os.dup(0), writable=False)
    writer = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # library prints must never corrupt the frames
    serve(Duplex(reader, writer), json.loads(sys.argv[1]))



if __name__ == "__main__":
    main()
