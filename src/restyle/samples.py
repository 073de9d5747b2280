"""Sample portraits that ship inside installed packages (nothing is downloaded)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from restyle.errors import InvalidParameter, MissingExtra

SAMPLES = ("astronaut", "grace_hopper")


def load_sample(name: str) -> np.ndarray:
    """RGB uint8 pixels of a public-domain sample portrait: ``astronaut`` or ``grace_hopper``."""
    if name == "astronaut":
        from skimage import data

        return np.ascontiguousarray(data.astronaut())  # type: ignore[no-untyped-call]
    if name == "grace_hopper":
        try:
            from matplotlib import cbook
        except ImportError as exc:
            raise MissingExtra("The grace_hopper sample needs matplotlib: pip install 'restyle[test]'.") from exc
        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        with Image.open(str(path)) as photo:
            return np.asarray(photo.convert("RGB"))
    raise InvalidParameter(f"Unknown sample '{name}'; choose one of: {', '.join(SAMPLES)}.", param="input")


def sample_bytes(name: str) -> bytes:
    """A sample portrait encoded as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(load_sample(name)).save(buffer, format="PNG")
    return buffer.getvalue()
