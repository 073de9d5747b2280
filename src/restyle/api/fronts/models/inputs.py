"""Reading a Volcengine model body: its image list (``binary_data_base64`` or ``image_urls``),
``uri://binary_data?index=N`` references into it, and typed scalar fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from restyle.domain import ImageSource
from restyle.errors import InvalidParameter
from restyle.imaging.sources import source_from_text
from restyle.requests import parse_bool

MAX_IMAGES = 4  # the seed's models read one face image and one style image


def _string_list(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None or value == []:
        return None
    if isinstance(value, str):  # a lone string where the vendor documents a list
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise InvalidParameter(f"Parameter '{name}' must be a list of non-empty strings.", param=name)
    if len(value) > MAX_IMAGES:
        raise InvalidParameter(
            f"Parameter '{name}' has {len(value)} images; the limit is {MAX_IMAGES}.", param=name
        )
    return value


def images_of(body: Mapping[str, Any], alias: str | None = None) -> tuple[Sequence[str], str]:
    """The input images and the name of the list they came in: exactly one of ``binary_data_base64``
    and ``image_urls`` (or ``alias``, a single image field some models use)."""
    given = [
        (name, images)
        for name in ("binary_data_base64", "image_urls", *([alias] if alias else []))
        if (images := _string_list(body, name)) is not None
    ]
    if not given:
        raise InvalidParameter(
            "Parameter 'binary_data_base64' or 'image_urls' is required: send the photo as base64 or a URL.",
            param="binary_data_base64",
        )
    if len(given) > 1:
        names = " and ".join(f"'{name}'" for name, _ in given)
        raise InvalidParameter(f"Parameters {names} exclude each other; send only one.", param=given[1][0])
    name, images = given[0]
    return images, name


def reference(
    body: Mapping[str, Any], name: str, images: Sequence[str], list_param: str
) -> ImageSource | None:
    """The image a ``face_image`` / ``style_image`` field points to (``uri://binary_data?index=N``)."""
    value = body.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidParameter(
            f"Parameter '{name}' must be a string such as 'uri://binary_data?index=0'.", param=name
        )
    return source_from_text(value, name, images, list_param)


def texts(body: Mapping[str, Any], name: str) -> str:
    """A text field ('' when absent)."""
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidParameter(f"Parameter '{name}' must be a string.", param=name)
    return value


def require_bool(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """A true/false field (``default`` when absent)."""
    value = body.get(name)
    return default if value is None else parse_bool(name, value)
