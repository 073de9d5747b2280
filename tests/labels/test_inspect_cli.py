"""``restyle inspect`` and ``restyle keys c2pa-dev-cert`` end to end, in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from restyle.domain import OutputFormat
from restyle.imaging.codecs import encode_image
from restyle.labels import C2paSigner, LabelSpec, VisibleLabel, apply_file_labels, apply_pixel_labels
from restyle.labels.containers import insert_xmp
from restyle.labels.implicit import aigc_fields, build_xmp
from restyle.labels.invisible import watermark_id
from restyle.labels.spec import Producer

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TASK = "task-inspect-1"


def restyle(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "restyle.cli", *args]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = Path(tmp_path_factory.mktemp("certs")) / "dev"
    made = restyle("keys", "c2pa-dev-cert", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    paths = json.loads(made.stdout)
    assert Path(paths["chain"]).read_text().count("BEGIN CERTIFICATE") == 2
    assert oct(Path(paths["key"]).stat().st_mode & 0o777) == "0o600"
    return out


def test_every_label_is_reported(portrait: np.ndarray, cert_dir: Path, tmp_path: Path) -> None:
    signer = C2paSigner(cert_dir / "c2pa-chain.pem", cert_dir / "c2pa-signer.key")
    spec = LabelSpec(visible=VisibleLabel(True, 1, 0), c2pa=True, signer=signer)
    pixels = apply_pixel_labels(portrait, spec, TASK)
    path = tmp_path / "out.jpg"
    path.write_bytes(apply_file_labels(encode_image(pixels, OutputFormat.JPEG, 90), "jpeg", spec, TASK))

    done = restyle(
        "inspect", str(path), "--json", "--task-id", TASK, "--c2pa-trust", str(cert_dir / "c2pa-ca.pem")
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["labelled"] and report["format"] == "jpeg"
    assert report["visible"]["position"] == 1 and report["visible"]["language"] == 0
    assert report["visible"]["text"] == "AI生成"
    assert report["metadata"]["Label"] == "1" and report["metadata"]["matches_task_id"] is True
    assert (
        report["watermark"]["id"] == f"{watermark_id(TASK):016x}" and report["watermark"]["matches_task_id"]
    )
    assert report["c2pa"]["valid"] and report["c2pa"]["trusted"] and report["c2pa"]["created_by_ai"]

    text = restyle("inspect", str(path))
    assert text.returncode == 0
    assert "AI生成 at bottom-left" in text.stdout and "ProduceID='task-inspect-1'" in text.stdout
    assert "signer not on a trust list" in text.stdout


def test_unlabelled_image_exits_1(portrait: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    path.write_bytes(encode_image(portrait, OutputFormat.PNG))
    done = restyle("inspect", str(path), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert not report["labelled"]
    assert report["visible"] is None and report["metadata"] is None and report["watermark"] is None
    assert report["c2pa"]["present"] is False


def test_tampered_manifest_exits_3_and_unreadable_file_exits_2(
    astronaut_small: np.ndarray, cert_dir: Path, tmp_path: Path
) -> None:
    signer = C2paSigner(cert_dir / "c2pa-chain.pem", cert_dir / "c2pa-signer.key")
    signed = apply_file_labels(encode_image(astronaut_small), "png", LabelSpec(c2pa=True, signer=signer), "t")
    # someone rewrites the metadata label after signing: the file still decodes, the manifest's hash breaks
    forged = insert_xmp(signed, build_xmp(aigc_fields("someone-else", Producer())))
    path = tmp_path / "tampered.png"
    path.write_bytes(forged)
    done = restyle("inspect", str(path))
    assert done.returncode == 3, done.stderr
    assert "C2PA manifest: INVALID" in done.stdout

    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    bad = restyle("inspect", str(junk))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
    assert restyle("inspect", str(tmp_path / "missing.png")).returncode == 2
