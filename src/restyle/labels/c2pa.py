"""C2PA: sign a manifest that says "created by a trained algorithm", and read and validate one back.

``c2pa-python`` is imported lazily: without it, signing raises MissingExtra and reading reports that
the check could not run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restyle.errors import C2paNotConfigured, C2paSigningFailed, MissingExtra
from restyle.labels.spec import C2paSigner

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MIME_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "avif": "image/avif",
    "heic": "image/heic",
}
# the default thumbnail re-encodes the image and can grow a WebP forty-fold; the output is its own preview
_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


@dataclass(frozen=True)
class C2paReport:
    """What a C2PA reader found: no manifest, or one with its validation state and the facts restyle needs."""

    present: bool
    state: str | None = None  # "Invalid", "Valid" (signature good, signer not on a trust list) or "Trusted"
    created: bool = False  # a c2pa.created action with the trainedAlgorithmicMedia source type
    signer: str | None = None  # the signing certificate's common name
    failures: list[str] = field(
        default_factory=list
    )  # validation failure codes (signingCredential.untrusted, ...)
    error: str | None = None  # the reader could not run or the manifest could not be parsed

    @property
    def valid(self) -> bool:
        """The manifest's hashes and signature check out (its signer may still be off every trust list)."""
        return self.present and self.state in ("Valid", "Trusted")

    @property
    def trusted(self) -> bool:
        return self.present and self.state == "Trusted"

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "valid": self.valid,
            "trusted": self.trusted,
            "state": self.state,
            "created_by_ai": self.created,
            "signer": self.signer,
            "failures": self.failures,
            "error": self.error,
        }


def manifest_definition(task_id: str, mime: str, generator_version: str) -> dict[str, Any]:
    """The manifest restyle signs: one c2pa.created action, digital source type trainedAlgorithmicMedia."""
    return {
        "claim_generator_info": [{"name": "restyle", "version": generator_version}],
        "title": f"restyle task {task_id}",
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [{"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}]
                },
            }
        ],
    }


def sign(data: bytes, fmt: str, task_id: str, signer: C2paSigner | None) -> bytes:
    """``data`` (an encoded image of format ``fmt``) with an embedded, signed C2PA manifest."""
    c2pa = _library()
    if signer is None:
        raise C2paNotConfigured(
            "C2PA signing is on but labels.c2pa_cert_path and labels.c2pa_key_path are not set; "
            "create a development pair with 'restyle keys c2pa-dev-cert' or configure the operator's certificate."
        )
    mime = _mime(fmt)
    chain, key = (
        _read(signer.cert_path, "labels.c2pa_cert_path"),
        _read(signer.key_path, "labels.c2pa_key_path"),
    )
    from restyle import __version__

    try:
        info = c2pa.C2paSignerInfo(
            signer.alg.encode(), chain, key, signer.tsa_url.encode() if signer.tsa_url else None
        )
        context = c2pa.Context(c2pa.Settings.from_dict(_SETTINGS))
        builder = c2pa.Builder(manifest_definition(task_id, mime, __version__), context)
        out = io.BytesIO()
        builder.sign(c2pa.Signer.from_info(info), mime, io.BytesIO(data), out)
    except c2pa.C2paError as exc:
        raise C2paSigningFailed(
            f"The C2PA manifest could not be signed with labels.c2pa_cert_path: {exc}."
        ) from None
    return out.getvalue()


def read(data: bytes, fmt: str | None = None, trust_anchors: Path | None = None) -> C2paReport:
    """The C2PA manifest of ``data`` and its validation; ``trust_anchors`` (PEM) turns "Valid" into "Trusted"."""
    try:
        c2pa = _library()
    except MissingExtra as exc:
        return C2paReport(present=False, error=exc.message)
    try:
        context = None
        if trust_anchors is not None:
            context = c2pa.Context.from_dict(
                {"trust": {"trust_anchors": trust_anchors.read_text()}, "verify": {"verify_trust": True}}
            )
        mime = _mime(fmt) if fmt else None
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)
        if reader is None:
            return C2paReport(present=False)
        with reader:
            manifest = reader.get_active_manifest() or {}
            state = reader.get_validation_state()
            results = reader.get_validation_results() or {}
    except (c2pa.C2paError, OSError, ValueError) as exc:
        return C2paReport(present=True, state="Invalid", error=str(exc))
    failures = [str(item.get("code")) for item in results.get("activeManifest", {}).get("failure", [])]
    return C2paReport(
        present=True,
        state=state,
        created=_has_created_action(manifest),
        signer=(manifest.get("signature_info") or {}).get("common_name"),
        failures=failures,
    )


def _has_created_action(manifest: dict[str, Any]) -> bool:
    for assertion in manifest.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                if (
                    action.get("action") == "c2pa.created"
                    and action.get("digitalSourceType") == TRAINED_ALGORITHMIC_MEDIA
                ):
                    return True
    return False


def _mime(fmt: str) -> str:
    key = str(fmt).lower().removeprefix("image/").replace("jpg", "jpeg")
    if key not in MIME_TYPES:
        raise C2paSigningFailed(f"C2PA manifests are written for {', '.join(MIME_TYPES)} only, not {fmt}.")
    return MIME_TYPES[key]


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise C2paNotConfigured(
            f"The C2PA file in {setting} ({path}) cannot be read: {exc.strerror}."
        ) from None


def _library() -> Any:
    try:
        import c2pa
    except ImportError as exc:
        raise MissingExtra("C2PA manifests need the c2pa-python package: pip install c2pa-python.") from exc
    return c2pa
