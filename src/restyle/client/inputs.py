"""Images and parameters as the fields of a multipart submit.

An image is a path, bytes, a PIL image, a NumPy array (RGB or grey ``uint8``) or an ``http(s)://`` URL;
a URL (and a ``data:`` URI) is sent as text, for the server to fetch, never downloaded here. NumPy and
Pillow are not imported by this module: arrays and images are recognised by their attributes.
"""

from __future__ import annotations

import io
import json
import mimetypes
import os
from pathlib import Path
from typing import Any

from restyle.client.errors import InvalidInput

# (filename, bytes, content type) for a file part, or the text of a URL / data: URI
Part = tuple[str, bytes, str] | str

_TEXT_PREFIXES = ("http://", "https://", "data:")


def _encode_png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _array_part(array: Any, param: str) -> tuple[str, bytes, str]:
    shape = tuple(getattr(array, "shape", ()))
    if str(getattr(array, "dtype", "")) != "uint8" or not (
        len(shape) == 2 or (len(shape) == 3 and shape[2] in (3, 4))
    ):
        raise InvalidInput(
            f"Parameter '{param}': an array must be uint8 of shape (height, width, 3) in RGB order (or grey, "
            f"or RGBA), not {getattr(array, 'dtype', '?')} {shape}.",
            param=param,
        )
    from PIL import Image

    return f"{param}.png", _encode_png(Image.fromarray(array)), "image/png"


def image_part(image: Any, param: str = "image") -> Part:
    """The multipart part (or text field) of one input image."""
    if isinstance(image, str) and image.strip().lower().startswith(_TEXT_PREFIXES):
        return image.strip()
    if isinstance(image, str | os.PathLike):
        path = Path(image)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"Parameter '{param}': the file '{path}' cannot be read ({exc.strerror or exc}).",
                code="input.missing",
                param=param,
            ) from None
        return path.name, data, mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if isinstance(image, bytes | bytearray | memoryview):
        return f"{param}.bin", bytes(image), "application/octet-stream"
    if hasattr(image, "__array_interface__") and hasattr(image, "dtype"):
        return _array_part(image, param)
    if callable(getattr(image, "save", None)) and hasattr(image, "mode") and hasattr(image, "size"):
        return f"{param}.png", _encode_png(image), "image/png"  # a PIL image
    raise InvalidInput(
        f"Parameter '{param}' must be a file path, bytes, a PIL image, a NumPy array or an http(s) URL, "
        f"not {type(image).__name__}.",
        param=param,
    )


def form_value(value: Any) -> str:
    """A parameter as a form field: booleans as true/false, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def submit_parts(
    image: Any, style_image: Any, params: dict[str, Any]
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """(text fields, file fields) of a submit; parameters that are None are left out (server defaults)."""
    fields = {name: form_value(value) for name, value in params.items() if value is not None}
    files: dict[str, tuple[str, bytes, str]] = {}
    for name, value in (("image", image), ("style_image", style_image)):
        if value is None:
            continue
        part = image_part(value, name)
        if isinstance(part, str):
            fields[name] = part
        else:
            files[name] = part
    return fields, files
