"""`restyle run` / `styles` end to end, in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import encode_png

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def restyle(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restyle.cli", *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory, astronaut_small: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("in") / "me.png"
    path.write_bytes(encode_png(astronaut_small))
    return path


def test_run_writes_a_stylized_portrait_and_reports_identity(photo: Path, tmp_path: Path) -> None:
    done = restyle("run", str(photo), "--style", "anime", "--seed", "5", "-o", str(tmp_path / "out"), "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [row] = json_lines(done.stdout)
    assert Path(row["path"]).is_file() and row["style"] == "anime" and row["seed"] == 5
    assert row["identity_distance"] is not None and row["identity_distance"] < 0.6
    assert set(row["timings_ms"]) >= {"detect", "engine", "guard", "total"}
    assert row["faces"] and "guard_applied" in row


def test_same_seed_same_bytes_and_random_seed_is_reported(photo: Path, tmp_path: Path) -> None:
    outs = []
    for folder in ("a", "b"):
        done = restyle("run", str(photo), "-s", "0", "--seed", "11", "-o", str(tmp_path / folder), "--json",
                       cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outs.append(Path(json_lines(done.stdout)[0]["path"]).read_bytes())
    assert outs[0] == outs[1]
    done = restyle("run", str(photo), "-s", "0", "-o", str(tmp_path / "c"), "--json", cwd=tmp_path)
    assert json_lines(done.stdout)[0]["seed"] >= 0


def test_several_inputs_and_errors_do_not_stop_the_others(photo: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image at all")
    done = restyle("run", str(photo), str(junk), "--style", "fresh", "-o", str(tmp_path / "o"), "--json",
                   cwd=tmp_path)
    assert done.returncode == 1
    rows = json_lines(done.stdout)
    assert rows[0]["style"] == "fresh"
    assert rows[1]["error"]["code"] == "image.invalid"


@pytest.mark.parametrize(
    ("args", "code", "word"),
    [
        (["--style", "vaporwave"], "style.unknown", "'style'"),
        (["--hd", "1.7"], "param.out_of_range", "'hd'"),
        (["--beautify", "0.25"], "param.out_of_range", "multiple of 0.1"),
        (["--mode", "sideways"], "param.invalid", "'mode'"),
    ],
)
def test_bad_parameters_exit_with_a_clear_error(
    photo: Path, tmp_path: Path, args: list[str], code: str, word: str
) -> None:
    done = restyle("run", str(photo), *args, "-o", str(tmp_path), "--json", cwd=tmp_path)
    assert done.returncode == 2
    [row] = json_lines(done.stdout)
    assert row["error"]["code"] == code and word in row["error"]["message"]
    assert not list(tmp_path.glob("*.png"))  # nothing half-written


def test_photo_without_a_face(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (256, 1, 3))
    path = tmp_path / "wall.png"
    path.write_bytes(encode_png(ramp))
    done = restyle("run", str(path), "-o", str(tmp_path / "o"), "--json", cwd=tmp_path)
    assert done.returncode == 2
    assert json_lines(done.stdout)[0]["error"]["code"] == "face.not_found"
    done = restyle("run", str(path), "--allow-no-face", "-o", str(tmp_path / "o"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    row = json_lines(done.stdout)[0]
    assert row["identity_distance"] is None and row["warnings"]


def test_styles_lists_the_presets(tmp_path: Path) -> None:
    done = restyle("styles", "--json", cwd=tmp_path)
    presets = json.loads(done.stdout)
    assert [p["index"] for p in presets[:10]] == list(range(10))
    assert {"sketch", "oil_painting", "watercolor", "portrait"} <= {p["name"] for p in presets}
    assert presets[2]["title_zh"] == "二次元"


def test_inputs_with_the_same_name_get_their_own_outputs(photo: Path, tmp_path: Path) -> None:
    twin = tmp_path / "other" / photo.name
    twin.parent.mkdir()
    twin.write_bytes(photo.read_bytes())
    done = restyle("run", str(photo), str(twin), "--style", "fresh", "-o", str(tmp_path / "out"), "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    paths = [row["path"] for row in json_lines(done.stdout)]
    assert len(set(paths)) == 2 and all(Path(p).is_file() for p in paths)
    assert sorted(Path(p).name for p in paths) == ["me_fresh.png", "me_fresh_2.png"]


@pytest.mark.parametrize(
    ("make_args", "code", "text"),
    [
        (lambda d: ["--style-image", str(d / "nothere.png")], "input.missing", "--style-image"),
        (lambda d: ["--style-image", str(d)], "input.missing", "cannot be read"),
        (lambda d: ["-o", str(d / "afile")], "output.invalid", "is a file"),
    ],
    ids=["missing-style-image", "style-image-is-a-folder", "out-is-a-file"],
)
def test_unusable_options_are_one_clear_error(
    photo: Path, tmp_path: Path, make_args: Any, code: str, text: str
) -> None:
    (tmp_path / "afile").write_text("x")
    args = make_args(tmp_path)
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out")]
    done = restyle("run", str(photo), *args, "--json", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    [row] = json_lines(done.stdout)
    assert row["error"]["code"] == code and text in row["error"]["message"]


def test_a_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "restyle.cli", "styles"],
        cwd=tmp_path,
        env={**ENV, "RESTYLE_FACES__DETECTER": "cnn"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "RESTYLE_FACES__DETECTER (faces.detecter): Extra inputs are not permitted" in done.stderr


def test_doctor_reports_every_required_part(tmp_path: Path) -> None:
    done = restyle("doctor", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert {row["check"] for row in report["required"]} == {"face models", "opencv", "engine", "templates"}
    assert all(row["ok"] for row in report["required"])
    broken = subprocess.run(
        [sys.executable, "-m", "restyle.cli", "doctor", "--json"],
        cwd=tmp_path, env={**ENV, "RESTYLE_ENGINE__NAME": "nonesuch"}, capture_output=True, text=True, timeout=120,
    )
    assert broken.returncode == 1
    engine = next(row for row in json.loads(broken.stdout)["required"] if row["check"] == "engine")
    assert not engine["ok"] and "nonesuch" in engine["detail"]
    bad = tmp_path / "templates.yaml"
    bad.write_text("thumb: image/spin,90\n")
    broken = subprocess.run(
        [sys.executable, "-m", "restyle.cli", "doctor", "--json"],
        cwd=tmp_path, env={**ENV, "RESTYLE_IMAGES__TEMPLATES_FILE": str(bad)}, capture_output=True, text=True,
        timeout=120,
    )
    assert broken.returncode == 1
    templates = next(row for row in json.loads(broken.stdout)["required"] if row["check"] == "templates")
    assert not templates["ok"] and "thumb" in templates["detail"]


def test_a_server_url_without_http_is_one_line_and_exit_2(photo: Path, tmp_path: Path) -> None:
    done = restyle("run", str(photo), "--server", "127.0.0.1:8000", "--key", "k", "-o", str(tmp_path / "o"),
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: The server URL must start with http:// or https://, not '127.0.0.1:8000'. [client.url]"
    ]


def test_parallel_without_a_server_is_refused(photo: Path, tmp_path: Path) -> None:
    done = restyle("run", str(photo), "--parallel", "2", "-o", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: Option --parallel needs --server (a local run renders one output at a time). [option.invalid]"
