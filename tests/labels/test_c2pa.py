"""C2PA: sign with a development chain made here, read and validate it back, detect tampering."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from restyle.domain import OutputFormat
from restyle.errors import C2paNotConfigured
from restyle.imaging.codecs import encode_image
from restyle.labels import C2paSigner, LabelSpec, apply_file_labels
from restyle.labels import c2pa as labels_c2pa
from restyle.labels.containers import extract_xmp
from restyle.labels.devcert import DevCertFiles
from restyle.labels.implicit import parse_xmp

try:
    import c2pa  # noqa: F401

    HAVE_C2PA = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_C2PA = False
    if os.environ.get("CI") == "true":
        raise

pytestmark = pytest.mark.skipif(
    not HAVE_C2PA, reason="c2pa-python is not installed (pip install c2pa-python)"
)


def spec_for(cert: DevCertFiles) -> LabelSpec:
    return LabelSpec(c2pa=True, signer=C2paSigner(cert.chain, cert.key, "es256"), invisible=False)


@pytest.mark.parametrize("fmt", [OutputFormat.PNG, OutputFormat.JPEG, OutputFormat.WEBP])
def test_signed_manifest_validates(
    fmt: OutputFormat, astronaut_small: np.ndarray, dev_cert: DevCertFiles
) -> None:
    plain = encode_image(astronaut_small, fmt)
    signed = apply_file_labels(plain, fmt, spec_for(dev_cert), "task-c2")
    assert len(signed) < len(plain) + 64_000  # no thumbnail: the manifest stays small
    report = labels_c2pa.read(signed)
    assert report.present and report.valid and report.created
    assert report.state == "Valid" and not report.trusted  # a development CA is on no trust list
    assert report.signer == "restyle C2PA signer (development)"
    assert labels_c2pa.read(signed, trust_anchors=dev_cert.ca).state == "Trusted"
    # the TC260 label written before signing is still there, and signing hashed it
    assert (parse_xmp(extract_xmp(signed) or b"") or {}).get("ProduceID") == "task-c2"


def test_tampered_file_is_invalid(astronaut_small: np.ndarray, dev_cert: DevCertFiles) -> None:
    signed = bytearray(apply_file_labels(encode_image(astronaut_small), "png", spec_for(dev_cert), "t"))
    idat = signed.index(b"IDAT")
    signed[idat + 200] ^= 0xFF
    report = labels_c2pa.read(bytes(signed))
    assert report.present and not report.valid and report.state == "Invalid"
    assert any("mismatch" in code for code in report.failures)


def test_unsigned_file_has_no_manifest(astronaut_small: np.ndarray) -> None:
    report = labels_c2pa.read(encode_image(astronaut_small))
    assert not report.present and not report.valid and report.error is None


def test_signing_without_configured_files_is_a_configuration_error(
    astronaut_small: np.ndarray, tmp_path: Path
) -> None:
    data = encode_image(astronaut_small)
    with pytest.raises(C2paNotConfigured, match="c2pa_cert_path"):
        apply_file_labels(data, "png", LabelSpec(c2pa=True, invisible=False), "t")
    missing = C2paSigner(cert_path=tmp_path / "none.pem", key_path=tmp_path / "none.key")
    with pytest.raises(C2paNotConfigured, match="cannot be read"):
        apply_file_labels(data, "png", LabelSpec(c2pa=True, signer=missing), "t")
