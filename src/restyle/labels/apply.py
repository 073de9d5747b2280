"""The two entry points the pipeline calls: pixel labels before encoding, file labels after it."""

from __future__ import annotations

import numpy as np

from restyle.labels import c2pa, containers, implicit, invisible, visible
from restyle.labels.spec import LabelSpec

XMP_FORMATS = ("png", "jpeg", "webp")  # AVIF and HEIC carry XMP in ISOBMFF boxes: not written (yet)


def apply_pixel_labels(image: np.ndarray, spec: LabelSpec, task_id: str) -> np.ndarray:
    """The final RGB uint8 output with the visible label (if ``add_logo``) and the invisible watermark (if on).

    The watermark goes last so that it also covers the label's pixels.
    """
    out = visible.apply_visible(image, spec.visible, spec.font_path)
    if spec.invisible:
        out = invisible.embed(out, invisible.watermark_id(task_id))
    return out


def apply_file_labels(data: bytes, fmt: str, spec: LabelSpec, task_id: str) -> bytes:
    """The encoded output with the TC260 XMP label (PNG, JPEG, WebP) and a signed C2PA manifest (if on).

    ``fmt`` is the output format (``OutputFormat`` or its value). The C2PA manifest is added last: it
    hashes the file, so nothing may change the bytes after it.
    """
    fmt = str(fmt).lower()
    if spec.metadata and fmt in XMP_FORMATS:
        packet = implicit.build_xmp(implicit.aigc_fields(task_id, spec.producer))
        data = containers.insert_xmp(data, packet)
    if spec.c2pa:
        data = c2pa.sign(data, fmt, task_id, spec.signer)
    return data
