"""`restyle process` and `restyle templates` end to end, in a real subprocess with real files."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restyle.imaging.actions.params import encode_base64url

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
ENV.pop("RESTYLE_IMAGES__TEMPLATES_FILE", None)


def restyle(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restyle.cli", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("in") / "photo.jpg"
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    image[:, :200] = (255, 0, 0)
    image[:, 200:] = (0, 0, 255)
    Image.fromarray(image).save(path, quality=92)
    Image.fromarray(np.full((10, 10, 3), (0, 255, 0), dtype=np.uint8)).save(path.parent / "mark.png")
    return path


def test_process_writes_the_output_with_the_formats_extension(photo: Path, tmp_path: Path) -> None:
    done = restyle(
        "process",
        str(photo),
        "--actions",
        "image/resize,w_100/format,webp",
        "-o",
        str(tmp_path / "x.png"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    written = Path(done.stdout.strip())
    assert written == tmp_path / "x.webp" and written.read_bytes()[8:12] == b"WEBP"
    assert Image.open(written).size == (100, 75)


def test_process_keeps_the_input_format_and_writes_into_a_folder(photo: Path, tmp_path: Path) -> None:
    done = restyle("process", str(photo), "-a", "image/flip,h", "-o", str(tmp_path) + "/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "photo.jpg"
    assert Path(done.stdout.strip()) == written
    assert np.asarray(Image.open(written))[150, 10, 2] > 200  # blue moved to the left


def test_process_with_a_template_and_a_templates_file(photo: Path, tmp_path: Path) -> None:
    templates = tmp_path / "t.yaml"
    templates.write_text('tiny: "image/resize,m_fixed,w_20,h_10/format,png"\n')
    done = restyle(
        "process",
        str(photo),
        "--template",
        "tiny",
        "--templates-file",
        str(templates),
        "-o",
        str(tmp_path / "tiny"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "tiny.png").size == (20, 10)
    packaged = restyle("process", str(photo), "-t", "avatar", cwd=tmp_path)
    assert packaged.returncode == 0, packaged.stderr
    assert Image.open(tmp_path / "photo-processed.png").mode == "RGBA"


def test_image_watermarks_read_files_next_to_the_input(photo: Path, tmp_path: Path) -> None:
    key = encode_base64url("mark.png")
    done = restyle(
        "process",
        str(photo),
        "-a",
        f"image/watermark,image_{key},g_nw,x_0,y_0/format,png",
        "-o",
        str(tmp_path / "m.png"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert tuple(np.asarray(Image.open(tmp_path / "m.png"))[5, 5]) == (0, 255, 0)
    escape = encode_base64url("../../../etc/passwd")
    refused = restyle("process", str(photo), "-a", f"image/watermark,image_{escape}", cwd=tmp_path)
    assert refused.returncode == 2 and "could not be read" in refused.stderr


def test_info_prints_json(photo: Path, tmp_path: Path) -> None:
    done = restyle("process", str(photo), "-a", "image/info", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["width"] == 400 and facts["height"] == 300 and facts["format"] == "jpeg"
    assert facts["size"] == photo.stat().st_size


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("-a", "image/resize,w_0"), "parameter 'w' is 0"),
        (("-a", "image/zoom,2"), "'zoom' is not known"),
        (("-t", "nope"), "'nope' does not exist"),
        ((), "either --actions or --template"),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(
    photo: Path, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    done = restyle("process", str(photo), *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and lines[0].startswith("restyle: ")
    assert not list(tmp_path.glob("*processed*"))


def test_templates_list_and_json(tmp_path: Path) -> None:
    listed = restyle("templates", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[0] == "thumbnail" for line in listed.stdout.splitlines())
    as_json = json.loads(restyle("templates", "list", "--json", cwd=tmp_path).stdout)
    assert as_json["thumbnail"] == "image/resize,m_fill,w_256,h_256/format,webp"


def test_templates_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text('a: "image/flip,h"\nb: "image/rotate,90"\n')
    ok = restyle("templates", "check", str(good), cwd=tmp_path)
    assert ok.returncode == 0 and "2 template(s)" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"a": "image/flip,x", "b": "image/rotate,90", "c": "image/blur,r_5"}))
    failed = restyle("templates", "check", str(bad), cwd=tmp_path)
    lines = failed.stderr.strip().splitlines()
    assert failed.returncode == 2 and len(lines) == 2
    assert "'a'" in lines[0] and "'direction'" in lines[0] and "'c'" in lines[1]


def test_the_written_file_decodes(photo: Path, tmp_path: Path) -> None:
    restyle("process", str(photo), "-a", "image/circle,r_50", "-o", str(tmp_path / "c.png"), cwd=tmp_path)
    image = Image.open(
        io.BytesIO((tmp_path / "c.jpg").read_bytes())
    )  # the input's format: JPEG, white outside
    assert image.size == (100, 100) and min(image.getpixel((0, 0))) >= 240
