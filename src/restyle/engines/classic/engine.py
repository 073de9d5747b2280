"""The classic engine: face-aware non-photorealistic rendering with OpenCV and NumPy.

One job runs these steps (:meth:`ClassicEngine.generate`): read the prompt and choose the preset,
prepare the reference mode (``reference``: the whole scene restyled; ``creative``: the scene behind
the person abstracted and the stylization pushed further; ``reference_char``: the person on a
procedural backdrop of the style), render, learn the style image's look, grade with the prompt's
modifiers.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from restyle.domain import ReferenceMode, StylePreset
from restyle.engines.base import Engine, EngineJob, EngineOutput
from restyle.engines.classic import background, supersample
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.face_detail import redraw_faces
from restyle.engines.classic.presets import PRESETS
from restyle.engines.classic.prompt import STYLE_WORDS, apply_modifiers, parse_prompt
from restyle.engines.classic.renderers import RENDERERS
from restyle.engines.classic.style_transfer import keep_own_look, measure_style, transfer_style
from restyle.faces.masks import build_masks, crop_masks

Renderer = Callable[[RenderContext], np.ndarray]

DEFAULT_STYLE = "anime"
# A style image without a preset or a prompt style is laid over a neutral painterly base.
PAINTERLY_BASE = "oil_painting"
PAINTERLY_BASE_STRENGTH = 0.6
CREATIVE_STRENGTH_BOOST = 0.25  # creative mode renders further from the photo
CREATIVE_BACKGROUND = 0.85  # how much of the scene behind the person creative mode abstracts
REFERENCE_MODIFIER_GAIN = 0.7
REDRAW_FROM = 0.6  # above this detail, a preset's own redraw is followed by the generic one  # prompt modifiers steer less when the photo is the reference


def load_renderer(style: str) -> Renderer:
    """The render function of preset ``style`` (imported on first use)."""
    module_name, _, attr = RENDERERS[style].partition(":")
    module = importlib.import_module(f"restyle.engines.classic.{module_name}")
    renderer: Renderer = getattr(module, attr)
    return renderer


def choose_style(job: EngineJob, prompt_style: str | None) -> tuple[str, str]:
    """(preset name, where it came from): the request's preset, a style named by the prompt, the
    painterly base under a style image, or the default."""
    if job.preset is not None:
        return job.preset.name, "request"
    if prompt_style is not None:
        return prompt_style, "prompt"
    if job.style_image is not None and job.request.style_switch:
        return PAINTERLY_BASE, "style_image"
    return DEFAULT_STYLE, "default"


class ClassicEngine(Engine):
    """CPU engine with the presets of :mod:`restyle.engines.classic.presets`.

    Request fields it reads: ``style`` (via the job's preset), ``prompt`` (style words and
    modifiers, see :mod:`restyle.engines.classic.prompt`), ``strength``, ``mode`` (reference,
    creative, reference_char), ``style_image`` with ``style_switch``, ``facestyle_switch`` and
    ``seed``. Results are deterministic for a seed.
    """

    name = "classic"
    style_aliases = dict(STYLE_WORDS)

    def presets(self) -> list[StylePreset]:
        return list(PRESETS)

    def generate(self, job: EngineJob) -> EngineOutput:
        """Render ``job``; see the module docstring for the steps."""
        return self._render(job, 0.0)

    def render_face_detail(self, job: EngineJob, stylized: np.ndarray, detail: float) -> np.ndarray | None:
        """The faces of ``stylized`` redrawn with ``detail`` (see :class:`Engine`).

        A renderer marked ``honours_detail = True`` re-renders the image with ``RenderContext.detail``
        raised and its face regions replace ``stylized``'s through the feathered face masks (above
        ``REDRAW_FROM`` the generic redraw follows, growing to full strength at 1); for the
        others the photo's lines and shading are requantised into the stylized face's own palette
        (:func:`redraw_faces`), in flat tones and solid ink for a renderer marked ``flat_faces``.
        """
        if not job.faces:
            return None
        style, _ = choose_style(job, parse_prompt(job.request.prompt).style)
        renderer = load_renderer(style)
        flat = bool(getattr(renderer, "flat_faces", False))
        if not getattr(renderer, "honours_detail", False):
            return redraw_faces(stylized, job.image, job.faces, detail, flat=flat)
        redrawn = self._render(job, float(np.clip(detail, 0.0, 1.0))).image
        out = stylized.copy()
        for face in job.faces:
            masks = crop_masks((int(out.shape[0]), int(out.shape[1])), face)
            rows, cols = masks.slices()
            alpha = masks.on_crop("face")[..., None]
            base = out[rows, cols].astype(np.float32)
            mixed = base + alpha * (redrawn[rows, cols].astype(np.float32) - base)
            out[rows, cols] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        if detail > REDRAW_FROM:
            # the strongest levels also requantise the photo's shading and lines into the face's
            # own (now detailed) palette: still no photo pixel, but more of its structure
            out = redraw_faces(out, job.image, job.faces, (detail - REDRAW_FROM) / (1.0 - REDRAW_FROM), flat=flat)
        return out

    def _render(self, job: EngineJob, detail: float) -> EngineOutput:
        request = job.request
        # 1. Read the prompt, then choose the preset.
        prompt = parse_prompt(request.prompt)
        style, source = choose_style(job, prompt.style)
        prompt.overridden(style)  # e.g. style=anime with the prompt "oil painting"
        mode = request.effective_mode
        creative = mode == ReferenceMode.CREATIVE

        # 2. Reference mode, before rendering: creative abstracts the scene behind the person so
        # the preset paints simpler shapes there; reference_char needs the person mask afterwards.
        info: dict[str, Any] = {"style": style, "style_source": source, "mode": mode.value}
        source_image = job.image
        mask = None
        if mode == ReferenceMode.REFERENCE_CHAR or creative:
            mask = background.person_mask(job.image, job.faces)
        if creative and mask is not None:
            source_image = background.simplify_background(job.image, mask, CREATIVE_BACKGROUND)
            info["background"] = "simplified"

        # 3. Render the preset; creative mode pushes the stylization further.
        strength = float(np.clip(request.strength, 0.0, 1.0))
        if source == "style_image":
            strength *= PAINTERLY_BASE_STRENGTH
        if creative:
            strength = min(1.0, strength + CREATIVE_STRENGTH_BOOST)
        info["strength"] = round(strength, 3)
        options: dict[str, Any] = dict(prompt.modifiers)
        if creative:
            options["creative"] = 1.0
        # Small faces are drawn on an enlarged copy (see supersample); the result is reduced back.
        by = supersample.factor(source_image.shape, job.faces)
        faces = job.faces
        if by > 1.0:
            if "supersample" not in job.cache:
                job.cache["supersample"] = supersample.enlarge(source_image, job.faces, by)
            source_image, faces = job.cache["supersample"]
            info["supersample"] = round(by, 3)
        ctx = RenderContext(image=source_image, faces=faces, rng=np.random.default_rng(job.seed),
                            strength=strength, options=options, detail=detail, cache=job.cache)
        image = supersample.reduce(load_renderer(style)(ctx), job.image.shape)
        if mode == ReferenceMode.REFERENCE_CHAR and mask is not None:
            rng = np.random.default_rng([job.seed, 1])
            image = background.replace_background(image, mask, style, job.faces, rng)
            info["background"] = background.GENERATORS.get(style, background.bokeh).__name__

        # 4. Style image: its palette, tones and line density; the face may keep its own look.
        face_mask = None
        if request.facestyle_switch and job.faces:
            face_mask = build_masks(job.image, job.faces).face
        info["style_image"] = None
        if job.style_image is not None and request.style_switch:
            stats = measure_style(job.style_image)
            image = transfer_style(image, stats, amount=1.0 if source == "style_image" else 0.85,
                                   original=job.image, keep_face_look=request.facestyle_switch,
                                   face_mask=face_mask)
            info["style_image"] = stats.to_dict()
        elif job.style_image is not None:
            info["style_image_ignored"] = "style_switch is off"
        elif request.facestyle_switch:
            image = keep_own_look(image, job.image, face_mask)
        info["facestyle_switch"] = request.facestyle_switch
        info["face_switch"] = request.face_switch

        # 5. Prompt modifiers as the final grade.
        if prompt.modifiers:
            image = apply_modifiers(image, prompt.modifiers, gain=1.0 if creative else REFERENCE_MODIFIER_GAIN)
        info["modifiers"] = {k: round(v, 3) for k, v in prompt.modifiers.items()}
        return EngineOutput(image=image, info=info, prompt_words_used=prompt.used,
                            prompt_words_ignored=prompt.ignored)
