"""A visible label asked for only when the result is read: Portrait Photography's get-result carries
``logo_info`` in ``req_json`` (seed [002]), after the image was made.

The label is drawn on a copy of the stored result with the labels package (the same drawing the
pipeline does), kept beside the result under the task's prefix (so a link can point to it and it is
deleted with the task), and made once per distinct ``logo_info``. A task generated with its own
label is returned as it is.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from restyle.api.services import Services
from restyle.domain import OutputFormat
from restyle.imaging.codecs import decode_image, encode_image
from restyle.labels.apply import apply_file_labels
from restyle.labels.spec import LabelSpec, VisibleLabel
from restyle.labels.visible import apply_visible
from restyle.tasks.models import TaskRow


def labelled_keys(services: Services, row: TaskRow, logo_info: dict[str, Any] | None) -> list[str]:
    """The storage keys to answer with: the results, or labelled copies when ``logo_info`` asks for a
    label the task was not generated with."""
    own = (row.params or {}).get("logo_info") or {}
    if logo_info is None or not VisibleLabel.from_logo_info(logo_info).add_logo or own.get("add_logo"):
        return list(row.result_keys)
    label = VisibleLabel.from_logo_info(logo_info)  # normalised: one copy per label, not per spelling
    canonical = [label.position, label.language, round(label.opacity, 2)]
    digest = hashlib.sha256(json.dumps(canonical).encode()).hexdigest()[:12]
    keys = []
    for key in row.result_keys:
        stem, _, extension = key.rpartition(".")
        derived = f"{stem}.logo-{digest}.{extension}"
        if not services.storage.exists(derived):
            services.storage.put(derived, _draw(services, row, key, logo_info))
            if not services.storage.exists(key):  # the task was deleted meanwhile: leave no orphan
                services.storage.delete(derived)
        keys.append(derived)
    return keys


def _draw(services: Services, row: TaskRow, key: str, logo_info: dict[str, Any]) -> bytes:
    # the invisible watermark is already in the pixels: only the visible label and file labels again
    spec = LabelSpec.from_settings(services.settings.labels, logo_info, invisible=False)
    pixels = apply_visible(decode_image(services.storage.get(key)), spec.visible, spec.font_path)
    params = row.params or {}
    fmt = OutputFormat(params.get("output_format", OutputFormat.PNG.value))
    data = encode_image(pixels, fmt, int(params.get("output_quality", 92)))
    return apply_file_labels(data, fmt.value, spec, row.id)
