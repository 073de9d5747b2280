"""AI-content labels (issue 8): visible label, TC260 metadata label, invisible watermark, C2PA, inspection.

The pipeline calls :func:`apply_pixel_labels` on the final pixels and :func:`apply_file_labels` on the
encoded bytes; ``restyle inspect`` calls :func:`restyle.labels.inspect.inspect_image`.
"""

from __future__ import annotations

from restyle.labels.apply import apply_file_labels, apply_pixel_labels
from restyle.labels.spec import C2paSigner, LabelSpec, Producer, VisibleLabel

__all__ = ["C2paSigner", "LabelSpec", "Producer", "VisibleLabel", "apply_file_labels", "apply_pixel_labels"]
