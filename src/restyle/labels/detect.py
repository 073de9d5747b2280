"""Find the visible label in an image: compare each corner against the label rendered at the expected size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from restyle.labels.fonts import find_font
from restyle.labels.spec import POSITIONS, TEXTS
from restyle.labels.visible import label_origin, render_glyphs

MIN_CORRELATION = (
    0.4  # high-passed luma against the rendering: labelled corners score 0.7-0.96, bare photos under 0.1
)
MIN_CONTRAST = 8.0  # text minus ring luma: about opacity 0.03 and up


@dataclass(frozen=True)
class VisibleFinding:
    """A visible label found at ``position`` in ``language``; ``opacity`` is estimated from its contrast."""

    position: int
    language: int
    score: float  # correlation with the rendering, 0..1
    opacity: float

    def to_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "position_name": POSITIONS[self.position],
            "language": self.language,
            "text": TEXTS[self.language],
            "score": round(self.score, 3),
            "opacity": round(self.opacity, 2),
        }


def find_visible(image: np.ndarray, font_path: Path | None = None) -> VisibleFinding | None:
    """The best-matching label among the four corners and two languages, or None.

    The image must still have the size it was labelled at: the label's size follows the shorter side.
    """
    height, width = image.shape[:2]
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    best: VisibleFinding | None = None
    for language, text in TEXTS.items():
        font = find_font(text, font_path)
        if font is None:
            continue
        glyphs = render_glyphs(text, min(height, width), font)
        gh, gw = glyphs.shape
        if gh > height or gw > width:
            continue
        core = glyphs.fill > 0.5
        ring = glyphs.outline > 0.5
        if not core.any() or not ring.any():
            continue
        for position in POSITIONS:
            y, x = label_origin((height, width), glyphs, position)
            region = luma[y : y + gh, x : x + gw]
            found = _score(region, core, ring, position, language)
            if found is not None and (best is None or found.score > best.score):
                best = found
    return best


def _score(
    region: np.ndarray, core: np.ndarray, ring: np.ndarray, position: int, language: int
) -> VisibleFinding | None:
    # 1. high-pass both: the label is fine structure (bright strokes in a dark ring), a photo's corner is
    #    mostly coarser, so subtracting a blur removes most of the background before correlating
    sigma = max(1.0, region.shape[0] / 12)
    template = core.astype(np.float32) - ring.astype(np.float32)
    detail = region - cv2.GaussianBlur(region, (0, 0), sigma)
    shape = template - cv2.GaussianBlur(template, (0, 0), sigma)
    if float(detail.std()) < 1e-3:
        return None
    correlation = float(np.corrcoef(detail.ravel(), shape.ravel())[0, 1])
    # 2. the label's own contrast: white text over a dark ring, whatever the background
    contrast = float(region[core].mean() - region[ring].mean())
    if correlation < MIN_CORRELATION or contrast < MIN_CONTRAST:
        return None
    return VisibleFinding(position, language, correlation, min(1.0, contrast / 255.0))
