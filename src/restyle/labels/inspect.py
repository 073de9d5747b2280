"""``restyle inspect``'s work: every AI-content label found in one encoded image."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from restyle.labels import c2pa, containers, implicit, invisible
from restyle.labels.detect import VisibleFinding, find_visible

# exit codes of ``restyle inspect``
EXIT_LABELLED = 0  # at least one label found, and no C2PA manifest that fails validation
EXIT_UNLABELLED = 1  # no label of any kind
EXIT_ERROR = 2  # the file cannot be read or decoded, or the command line is wrong
EXIT_C2PA_INVALID = 3  # a C2PA manifest is present but its hashes or signature do not check out


@dataclass(frozen=True)
class InspectReport:
    """The labels of one image: visible, TC260 XMP, invisible watermark and C2PA."""

    format: str | None
    width: int
    height: int
    visible: VisibleFinding | None
    metadata: dict[str, Any] | None
    watermark: invisible.WatermarkReading
    c2pa: c2pa.C2paReport
    task_id: str | None = None

    @property
    def labelled(self) -> bool:
        return any(
            (
                self.visible is not None,
                self.metadata is not None,
                self.watermark.payload is not None,
                self.c2pa.present,
            )
        )

    @property
    def exit_code(self) -> int:
        if self.c2pa.present and not self.c2pa.valid:
            return EXIT_C2PA_INVALID
        return EXIT_LABELLED if self.labelled else EXIT_UNLABELLED

    def to_dict(self) -> dict[str, Any]:
        payload = self.watermark.payload
        matches = (
            None
            if self.task_id is None or payload is None
            else payload == invisible.watermark_id(self.task_id)
        )
        produce_matches = None
        if self.task_id is not None and self.metadata is not None:
            produce_matches = self.metadata.get("ProduceID") == self.task_id
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "labelled": self.labelled,
            "visible": self.visible.to_dict() if self.visible else None,
            "metadata": None
            if self.metadata is None
            else {**self.metadata, "matches_task_id": produce_matches},
            "watermark": None
            if payload is None
            else {
                "id": self.watermark.payload_hex,
                "confidence": round(self.watermark.confidence, 3),
                "matches_task_id": matches,
            },
            "c2pa": self.c2pa.to_dict(),
        }


def inspect_bytes(
    data: bytes,
    *,
    task_id: str | None = None,
    trust_anchors: Path | None = None,
    font_path: Path | None = None,
) -> InspectReport:
    """Look for every label in ``data``; decoding failures propagate as ImageError (the decoder's)."""
    from restyle.imaging.codecs import decode_image

    pixels = decode_image(data)
    kind = containers.container_of(data)
    packet = containers.extract_xmp(data) if kind else _pillow_xmp(data)
    return InspectReport(
        format=kind or _pillow_format(data),
        width=int(pixels.shape[1]),
        height=int(pixels.shape[0]),
        visible=find_visible(pixels, font_path),
        metadata=implicit.parse_xmp(packet) if packet else None,
        watermark=invisible.decode(np.ascontiguousarray(pixels)),
        c2pa=c2pa.read(data, None, trust_anchors),
        task_id=task_id,
    )


def describe(report: InspectReport) -> list[str]:
    """The report as lines for people."""
    out = [f"image: {report.format or 'unknown'} {report.width}x{report.height}"]
    found = report.to_dict()
    if report.visible:
        v = found["visible"]
        out.append(
            f"visible label: {v['text']} at {v['position_name']} (position {v['position']}, language "
            f"{v['language']}, opacity ~{v['opacity']}, score {v['score']})"
        )
    else:
        out.append("visible label: none")
    if report.metadata is not None:
        fields = ", ".join(f"{k}={report.metadata.get(k, '')!r}" for k in implicit.FIELDS)
        out.append(f"metadata label (XMP TC260:AIGC): {fields}")
    else:
        out.append("metadata label (XMP TC260:AIGC): none")
    if found["watermark"]:
        w = found["watermark"]
        extra = (
            ""
            if w["matches_task_id"] is None
            else f", matches task id: {'yes' if w['matches_task_id'] else 'no'}"
        )
        out.append(f"invisible watermark: id {w['id']} (confidence {w['confidence']}{extra})")
    else:
        out.append("invisible watermark: none")
    out.append(f"C2PA manifest: {_describe_c2pa(report.c2pa)}")
    return out


def _describe_c2pa(report: c2pa.C2paReport) -> str:
    if not report.present:
        return "none" + (f" ({report.error})" if report.error else "")
    if not report.valid:
        why = ", ".join(report.failures) or report.error or "validation failed"
        return f"INVALID ({why})"
    trust = "trusted" if report.trusted else "valid signature, signer not on a trust list"
    created = "c2pa.created by trainedAlgorithmicMedia" if report.created else "no c2pa.created AI action"
    return f"{trust}; {created}; signer {report.signer!r}"


def _pillow_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return (image.format or "").lower() or None
    except (OSError, ValueError):
        return None


def _pillow_xmp(data: bytes) -> bytes | None:
    """XMP of formats the byte-level reader does not walk (TIFF, AVIF, ...), as Pillow exposes it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            xmp = image.info.get("xmp")
    except (OSError, ValueError):
        return None
    if isinstance(xmp, str):
        return xmp.encode("utf-8")
    return xmp if isinstance(xmp, bytes) else None
