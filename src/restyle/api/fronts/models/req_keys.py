"""The Volcengine models (``req_key``) the visual, veImageX and TOS aigc fronts serve, and how each one's
body becomes a :class:`Submission`.

- ``img2img_anime_accelerated_maintain_id`` (seed [000]): every field of the seed.
- ``i2i_xl_sft`` (seeds [001], [003]): an image and a ``prompt``; any picture, with or without a face.
- ``i2i_portrait_photo``: Portrait Photography 3.0 (seed [002], which does not name its key; restyle
  uses Volcengine's name for that model). Output sizes follow the ``portrait`` rule (512..2048,
  default 1328).

Translation only: values are checked by :func:`parse_generate_request` (here once, to name the
wire field in a message, and again by the task service).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from restyle.api.fronts.models.inputs import images_of, reference, require_bool, texts
from restyle.config import Settings
from restyle.domain import ImageSource
from restyle.errors import InvalidParameter, RestyleError, UnknownModel
from restyle.imaging.output import output_rule
from restyle.imaging.sources import source_from_text
from restyle.requests import parse_generate_request
from restyle.tasks.service import Submission

ANIME = "img2img_anime_accelerated_maintain_id"
XL_SFT = "i2i_xl_sft"
PORTRAIT = "i2i_portrait_photo"
FRONT_VOLC = "volc"
FRONT_PORTRAIT = "portrait"
PORTRAIT_STYLE = "portrait"  # the studio-portrait preset: relit and graded, still a photo


@dataclass(frozen=True)
class Translated:
    """A model request in restyle's terms plus what only the response needs (``return_url``) and the
    wire names of its images (``image`` / ``style_image`` -> ``binary_data_base64[0]``, ...)."""

    req_key: str
    submission: Submission
    return_url: bool
    image_params: Mapping[str, str] = field(default_factory=dict)

    def renamed(self, error: RestyleError) -> RestyleError:
        """``error`` naming the wire field the caller sent instead of restyle's input name."""
        return _renamed(error, self.image_params)


Fields = tuple[dict[str, Any], ImageSource, ImageSource | None, str]  # native fields, image, style, front
Translator = Callable[[Mapping[str, Any], Settings], Fields]


def _anime(body: Mapping[str, Any], settings: Settings) -> Fields:
    images, list_param = images_of(body)
    # the face (identity) image: face_image, else the first input image; style_image is optional
    face = reference(body, "face_image", images, list_param) or first_image(images, list_param)
    style = reference(body, "style_image", images, list_param)
    fields: dict[str, Any] = {
        "prompt": texts(body, "positive_prompt"),
        "seed": body.get("seed"),
        "steps": body.get("step", 18),
        "cfg_scale": body.get("cfg", 4.5),
        "width": body.get("width"),
        "height": body.get("height"),
        "logo_info": body.get("logo_info"),
    }
    for switch in ("hyper_switch", "face_switch", "facestyle_switch", "style_switch"):
        fields[switch] = body.get(switch)
    return fields, face, style, FRONT_VOLC


def _xl_sft(body: Mapping[str, Any], settings: Settings) -> Fields:
    images, list_param = images_of(body)
    prompt = texts(body, "prompt")
    if not prompt.strip():
        raise InvalidParameter(f"Parameter 'prompt' is required for req_key '{XL_SFT}'.", param="prompt")
    fields = {
        "prompt": prompt,
        "seed": body.get("seed"),
        "steps": body.get("ddim_steps"),
        "cfg_scale": body.get("scale"),
        "width": body.get("width"),
        "height": body.get("height"),
        "logo_info": body.get("logo_info"),
        # a general image-to-image model (seed [001]'s example is flowers and butterflies): a photo
        # without a face is stylized as a whole instead of refused
        "allow_no_face": True,
    }
    return fields, first_image(images, list_param), None, FRONT_VOLC


def _portrait(body: Mapping[str, Any], settings: Settings) -> Fields:
    images, list_param = images_of(body, alias="image_input")
    mode = body.get("ref_mode", body.get("gen_mode"))
    fields = {
        "style": PORTRAIT_STYLE,  # real-person portraits: the photographic preset; the prompt steers it
        "prompt": texts(body, "prompt"),
        "seed": body.get("seed"),
        "width": body.get("width"),
        "height": body.get("height"),
        "hd": body.get("gpen"),
        "beautify": body.get("skin"),
        "smooth": body.get("skin_unifi"),
        "mode": mode if mode not in ("", None) else None,
        "logo_info": body.get("logo_info"),
    }
    return fields, first_image(images, list_param), None, FRONT_PORTRAIT


def first_image(images: Sequence[str], list_param: str) -> ImageSource:
    """The first input image (the photo to restyle)."""
    return source_from_text(images[0], f"{list_param}[0]", images, list_param)


MODELS: dict[str, Translator] = {ANIME: _anime, XL_SFT: _xl_sft, PORTRAIT: _portrait}

COMMON = {"req_key", "binary_data_base64", "image_urls", "return_url", "logo_info"}
FIELDS: dict[str, frozenset[str]] = {
    ANIME: frozenset(
        COMMON
        | {"positive_prompt", "hyper_switch", "seed", "step", "cfg", "face_image", "style_image"}
        | {"face_switch", "facestyle_switch", "style_switch", "width", "height"}
    ),
    XL_SFT: frozenset(COMMON | {"prompt", "seed", "scale", "ddim_steps", "width", "height"}),
    PORTRAIT: frozenset(
        COMMON
        | {"image_input", "prompt", "width", "height", "gpen", "skin", "skin_unifi", "ref_mode"}
        | {"gen_mode", "seed"}
    ),
}

# wire name -> native name, per model, to name the field the caller sent in a refusal
WIRE_NAMES: dict[str, dict[str, str]] = {
    ANIME: {"prompt": "positive_prompt", "steps": "step", "cfg_scale": "cfg"},
    XL_SFT: {"steps": "ddim_steps", "cfg_scale": "scale"},
    PORTRAIT: {"hd": "gpen", "beautify": "skin", "smooth": "skin_unifi", "mode": "ref_mode"},
}


def translate(
    body: Mapping[str, Any],
    settings: Settings,
    idempotency_key: str | None = None,
    front: str = FRONT_VOLC,
) -> Translated:
    """The Submission of a model body (``req_key`` picks the model); refusals name the wire field.

    ``front`` names the input and output rules of the calling front (``imagex``: the seed's formats
    and 35 MB); Portrait Photography keeps its own output sizes whichever front calls it.
    """
    # 1. the model
    req_key = body.get("req_key")
    if not isinstance(req_key, str) or req_key not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise UnknownModel(
            f"Parameter 'req_key' is {req_key!r}; this server serves: {known}.", param="req_key"
        )
    unknown = sorted(set(body) - FIELDS[req_key])
    if unknown:  # a typo must not pass silently
        raise InvalidParameter(
            f"Parameter '{unknown[0]}' is not known for req_key '{req_key}'; its parameters are: "
            f"{', '.join(sorted(FIELDS[req_key]))}.",
            param=unknown[0],
        )
    # 2. the fields in native names, checked once here so that a message names the wire field
    fields, image, style, model_front = MODELS[req_key](body, settings)
    front = model_front if model_front != FRONT_VOLC else front
    fields = {name: value for name, value in fields.items() if value is not None}
    return_url = require_bool(body, "return_url")
    try:
        request = parse_generate_request(fields, image=image, style_image=style)
        if front == FRONT_PORTRAIT:
            output_rule(front, settings.images).check_size(request.width, request.height)
    except RestyleError as error:
        raise _renamed(error, WIRE_NAMES[req_key]) from None
    # 3. the task, under this model's input and output rules
    submission = Submission(
        fields=fields, image=image, style_image=style, idempotency_key=idempotency_key, front=front
    )
    return Translated(req_key, submission, return_url, _image_params(body, req_key))


def _image_params(body: Mapping[str, Any], req_key: str) -> dict[str, str]:
    """Where the request's photo and style image came from, in the wire's names."""
    alias = "image_input" if req_key == PORTRAIT else None
    _, list_param = images_of(body, alias=alias)
    names = {"image": f"{list_param}[0]" if list_param != alias else list_param}
    if req_key == ANIME:
        if body.get("face_image") not in (None, ""):
            names["image"] = "face_image"
        names["style_image"] = "style_image"
    return names


def _renamed(error: RestyleError, names: Mapping[str, str]) -> RestyleError:
    wire = names.get(error.param or "")
    if wire is None:
        return error
    renamed = type(error)(
        error.message.replace(f"'{error.param}'", f"'{wire}'"),
        code=error.code,
        status=error.status,
        param=wire,
        details=error.details,
    )
    return renamed
