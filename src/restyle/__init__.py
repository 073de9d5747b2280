"""restyle: portrait stylization that keeps the person recognisable."""

from __future__ import annotations

__version__ = "0.1.0"
