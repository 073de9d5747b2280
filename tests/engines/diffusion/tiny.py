"""Tiny seeded SD-1.5 / SDXL diffusers folders, a kohya LoRA and an IP-Adapter, built in seconds on CPU."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _bytes_to_unicode() -> dict[int, str]:
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def write_tokenizer(folder: Path) -> None:
    """A CLIP BPE tokenizer by hand: byte symbols, the same with </w>, a few words, then the specials."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(_bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols]
    words: list[str] = []
    merges = ["a n", "an i", "ani m", "anim e</w>", "p o", "po r", "por t", "port r", "portr a", "portra i",
              "portrai t</w>"]  # fmt: skip
    vocab += [w for w in words if w not in vocab]
    for m in merges:
        merged = m.replace(" ", "")
        if merged not in vocab:
            vocab.append(merged)
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = {"model_max_length": 77, "tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>",
              "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}  # fmt: skip
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def _text_encoder(cls: type, vocab: int, hidden: int, projection: int | None = None):  # noqa: ANN202
    from transformers import CLIPTextConfig

    extra = {"projection_dim": projection} if projection else {}
    config = CLIPTextConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=37, num_hidden_layers=2,
                            num_attention_heads=4, max_position_embeddings=77, bos_token_id=vocab - 2,
                            eos_token_id=vocab - 1, pad_token_id=vocab - 1, **extra)  # fmt: skip
    return cls(config)


def build_pipeline(folder: Path, kind: str) -> Path:
    """A tiny random img2img pipeline of ``kind`` (sd15 | sdxl) saved under ``folder``."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        StableDiffusionXLImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    torch.manual_seed(0)
    write_tokenizer(folder / "_tok")
    tokenizer = CLIPTokenizer.from_pretrained(str(folder / "_tok"))
    vocab = len(tokenizer)
    vae = AutoencoderKL(block_out_channels=(8, 16, 16, 16), in_channels=3, out_channels=3, latent_channels=4,
                        norm_num_groups=8, down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1)  # fmt: skip
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    common = {"block_out_channels": (32, 64), "layers_per_block": 1, "sample_size": 16, "in_channels": 4,
              "out_channels": 4, "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
              "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"), "norm_num_groups": 8, "attention_head_dim": 4}  # fmt: skip
    if kind == "sd15":
        unet = UNet2DConditionModel(cross_attention_dim=32, **common)
        text = _text_encoder(CLIPTextModel, vocab, 32)
        pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                              scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                              requires_safety_checker=False)  # fmt: skip
    else:
        unet = UNet2DConditionModel(cross_attention_dim=64, addition_embed_type="text_time", addition_time_embed_dim=8,
                                    projection_class_embeddings_input_dim=32 + 6 * 8, **common)  # fmt: skip
        text = _text_encoder(CLIPTextModel, vocab, 32)
        text2 = _text_encoder(CLIPTextModelWithProjection, vocab, 32, projection=32)
        pipe = StableDiffusionXLImg2ImgPipeline(vae=vae, text_encoder=text, text_encoder_2=text2, tokenizer=tokenizer,
                                                tokenizer_2=tokenizer, unet=unet, scheduler=scheduler,
                                                requires_aesthetics_score=False)  # fmt: skip
    pipe.save_pretrained(str(folder))
    return folder


def write_kohya_lora(path: Path, folder: Path, rank: int = 2) -> Path:
    """A kohya-format LoRA (lora_unet_*.lora_down/lora_up/alpha) over the UNet's attention projections."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(str(folder / "unet"))
    generator = torch.Generator().manual_seed(1)
    tensors = {}
    for name, module in unet.named_modules():
        if name.endswith(("attn1.to_q", "attn1.to_k", "attn1.to_v", "attn2.to_q")) and hasattr(
            module, "weight"
        ):
            out_f, in_f = module.weight.shape
            key = "lora_unet_" + name.replace(".", "_")
            tensors[f"{key}.lora_down.weight"] = torch.randn(rank, in_f, generator=generator) * 0.3
            tensors[f"{key}.lora_up.weight"] = torch.randn(out_f, rank, generator=generator) * 0.3
            tensors[f"{key}.alpha"] = torch.tensor(float(rank))
    save_file(tensors, str(path))
    return path


def _cross_attention_shapes(folder: Path) -> list[tuple[int, str, tuple[int, int], int]]:
    """(processor index, name, to_k weight shape, hidden size) of every attention processor of the UNet."""
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(str(folder / "unet"))
    modules = dict(unet.named_modules())
    rows = []
    for index, name in enumerate(unet.attn_processors):
        attn = modules[name.removesuffix(".processor")]
        rows.append((index, name, tuple(attn.to_k.weight.shape), attn.to_q.weight.shape[0]))
    return rows


def write_ip_adapter(root: Path, pipeline: Path, cross_dim: int = 32, embed_dim: int = 32) -> Path:
    """A plain IP-Adapter: models/image_encoder (224 px, patch 14) + models/ip-adapter_tiny.safetensors."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(2)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                              image_size=224, patch_size=14, projection_dim=embed_dim)  # fmt: skip
    CLIPVisionModelWithProjection(config).save_pretrained(str(root / "models" / "image_encoder"))
    tensors = {
        "image_proj.proj.weight": torch.randn(4 * cross_dim, embed_dim) * 0.5,
        "image_proj.proj.bias": torch.zeros(4 * cross_dim),
        "image_proj.norm.weight": torch.ones(cross_dim),
        "image_proj.norm.bias": torch.zeros(cross_dim),
    }
    for index, name, to_k, _ in _cross_attention_shapes(pipeline):
        if "attn2" in name:
            tensors[f"ip_adapter.{index}.to_k_ip.weight"] = torch.randn(*to_k) * 0.5
            tensors[f"ip_adapter.{index}.to_v_ip.weight"] = torch.randn(*to_k) * 0.5
    save_file(tensors, str(root / "models" / "ip-adapter_tiny.safetensors"))
    return root


def write_faceid_adapter(path: Path, pipeline: Path, id_dim: int = 16, cross_dim: int = 32) -> Path:
    """A FaceID-style adapter (image_proj.proj.0/proj.2/norm + to_k_ip/to_v_ip) fed by an ``id_dim`` embedding."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(3)
    tensors = {
        "image_proj.proj.0.weight": torch.randn(2 * id_dim, id_dim) * 0.5,
        "image_proj.proj.0.bias": torch.zeros(2 * id_dim),
        "image_proj.proj.2.weight": torch.randn(4 * cross_dim, 2 * id_dim) * 0.5,
        "image_proj.proj.2.bias": torch.zeros(4 * cross_dim),
        "image_proj.norm.weight": torch.ones(cross_dim),
        "image_proj.norm.bias": torch.zeros(cross_dim),
    }
    for index, name, to_k, _ in _cross_attention_shapes(pipeline):
        if "attn2" in name:
            tensors[f"ip_adapter.{index}.to_k_ip.weight"] = torch.randn(*to_k) * 0.5
            tensors[f"ip_adapter.{index}.to_v_ip.weight"] = torch.randn(*to_k) * 0.5
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return path
