"""Person segmentation (GrabCut seeded by the faces) and style-appropriate procedural backgrounds.

:func:`person_mask` separates the person from the scene; :func:`procedural_background` paints a
backdrop for a preset's family; :func:`replace_background` composites one behind the other
(``reference_char`` mode) and :func:`simplify_background` abstracts the scene behind the person
(``creative`` mode).
"""

import cv2
import numpy as np

from restyle.engines.classic.backdrops import GENERATORS, bokeh, procedural_background
from restyle.engines.classic.segmentation import composite, person_mask, segment_person
from restyle.faces.types import Face

__all__ = [
    "GENERATORS",
    "bokeh",
    "composite",
    "person_mask",
    "procedural_background",
    "replace_background",
    "segment_person",
    "simplify_background",
]


def replace_background(stylized: np.ndarray, mask: np.ndarray, style: str, faces: list[Face],
                       rng: np.random.Generator) -> np.ndarray:
    """``stylized`` with everything outside the person ``mask`` replaced by the style's backdrop."""
    back = procedural_background(style, (stylized.shape[0], stylized.shape[1]), faces, rng)
    return composite(stylized, back, mask)


def simplify_background(image: np.ndarray, mask: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """Abstract the scene behind the person (``mask``): large soft colour regions, no fine detail."""
    h, w = image.shape[:2]
    factor = max(4, round(min(h, w) / 48))
    sw, sh = max(4, w // factor), max(4, h // factor)
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    small = cv2.medianBlur(cv2.bilateralFilter(small, 5, 40, 5), 3)
    small = cv2.GaussianBlur(small, (0, 0), 0.6)
    flat = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    back = cv2.addWeighted(image, 1.0 - amount, flat, amount, 0.0) if amount < 1.0 else flat
    return composite(image, back, mask)
