"""``restyle run --server``: the work happens on the real server, outputs land where a local run puts them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.client.conftest import LiveServer

pytestmark = pytest.mark.slow

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def restyle(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restyle.cli", *args], cwd=cwd, env={**ENV, **(env or {})}, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def rows(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def two_inputs(tmp_path: Path, portrait_file: Path) -> list[str]:
    """Two photos with the same name in different folders (the second output gets ``_2``)."""
    (tmp_path / "b").mkdir()
    other = tmp_path / "b" / "me.png"
    other.write_bytes(portrait_file.read_bytes())
    return [str(portrait_file), str(other)]


def test_two_inputs_on_the_server_are_named_as_a_local_run_names_them(
    live: LiveServer, two_inputs: list[str], tmp_path: Path
) -> None:
    options = ["--style", "sketch", "--seed", "9", "--hd", "0.5", "--format", "webp", "--json"]
    remote = restyle("run", *two_inputs, *options, "--server", live.url, "-o", str(tmp_path / "remote"),
                     cwd=tmp_path, env={"RESTYLE_API_KEY": live.keys["main"]})  # fmt: skip
    assert remote.returncode == 0, remote.stderr
    local = restyle("run", *two_inputs, *options, "-o", str(tmp_path / "local"), cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    remote_rows, local_rows = rows(remote.stdout), rows(local.stdout)
    assert [Path(r["path"]).name for r in remote_rows] == ["me_sketch.webp", "me_sketch_2.webp"]
    assert [Path(r["path"]).name for r in remote_rows] == [Path(r["path"]).name for r in local_rows]
    assert sorted(p.name for p in (tmp_path / "remote").iterdir()) == ["me_sketch.webp", "me_sketch_2.webp"]
    for row in remote_rows:
        assert row["seed"] == 9 and row["style"] == "sketch" and row["identity_distance"] < 0.6
        assert set(row) >= {"input", "path", "faces", "guard_applied", "timings_ms", "warnings"}
        assert Image.open(row["path"]).format == "WEBP"
    assert [r["input"] for r in remote_rows] == two_inputs
    # the tasks ran on the server, with the options of the command line
    with_key = {"Authorization": f"Bearer {live.keys['main']}"}
    import httpx

    tasks = httpx.get(f"{live.url}/v1/tasks?limit=2", headers=with_key, timeout=10).json()["data"]
    assert all(t["parameters"]["hd"] == 0.5 and t["parameters"]["seed"] == 9 for t in tasks)


def test_plain_output_and_a_failed_input(live: LiveServer, portrait_file: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a photo")
    done = restyle("run", str(portrait_file), str(junk), str(tmp_path / "missing.png"), "-s", "sketch",
                   "--server", live.url, "--key", live.keys["main"], "--parallel", "3", "-o", str(tmp_path / "o"),
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(str(tmp_path / "o" / "me_sketch.png")) and "identity distance" in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "[image.invalid]" in errors[0] and "[input.missing]" in errors[1]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--key", "rsk_wrong"], "auth.invalid"),
        (["--key", "{key}", "--no-safety"], "option.invalid"),
        (["--key", "{key}", "--style", "vaporwave"], "style.unknown"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    live: LiveServer, portrait_file: Path, tmp_path: Path, args: list[str], code: str
) -> None:
    args = [a.replace("{key}", live.keys["main"]) for a in args]
    done = restyle("run", str(portrait_file), "--server", live.url, *args, "-o", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and f"[{code}]" in lines[0], done.stderr
    assert not list((tmp_path / "o").glob("*"))


def test_one_bar_per_input_and_no_more_tasks_at_once_than_the_account_may_run(
    live: LiveServer, portrait_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "me.png").write_bytes(portrait_file.read_bytes())
    (tmp_path / "b" / "me.png").write_bytes(portrait_file.read_bytes())
    import httpx

    def tasks(key: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{live.url}/v1/tasks?limit=2", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        return list(reversed(answer.json()["data"]))  # oldest first

    for account in ("demo", "main"):  # concurrency 1, then 2
        done = restyle("run", "me.png", "b/me.png", "-s", "sketch", "--server", live.url, "-o", account,
                       cwd=tmp_path, env={"RESTYLE_API_KEY": live.keys[account], "TTY_COMPATIBLE": "1"})  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "me.png" in done.stderr and "b/me.png" in done.stderr  # the bars, on stderr
        first, second = tasks(live.keys[account])
        started_after_first_ended = second["created_at"] >= first["finished_at"]
        assert started_after_first_ended == (account == "demo"), (account, first, second)


def test_the_readme_example_runs(live: LiveServer, portrait_file: Path, tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("\n## Python client\n", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert 'Client("http://127.0.0.1:8000", "rsk_...")' in example and 'restyle("me.jpg", style="anime"' in example
    (tmp_path / "me.jpg").write_bytes(portrait_file.read_bytes())
    code = example.replace("http://127.0.0.1:8000", live.url).replace("rsk_...", live.keys["main"])
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("identity distance 0.") and ", seed 42" in done.stdout
    assert Image.open(tmp_path / "me_anime.png").size == (256, 256)


def test_ctrl_c_cancels_the_submitted_tasks(live: LiveServer, portrait_file: Path, tmp_path: Path) -> None:
    import signal
    import time

    import httpx

    key = live.keys["paused"]  # its tasks wait, so the run is still going when it is interrupted
    headers = {"Authorization": f"Bearer {key}"}

    def pending() -> list[str]:
        listed = httpx.get(f"{live.url}/v1/tasks?status=PENDING&limit=100", headers=headers, timeout=10).json()
        return [task["id"] for task in listed["data"]]

    before = set(pending())
    run = subprocess.Popen(
        [sys.executable, "-m", "restyle.cli", "run", str(portrait_file), str(portrait_file), "-s", "sketch",
         "--server", live.url, "--parallel", "2", "-o", str(tmp_path / "o")],
        cwd=tmp_path, env={**ENV, "RESTYLE_API_KEY": key}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(set(pending()) - before) < 2:
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.2)
        submitted = set(pending()) - before
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130 and "Traceback" not in stderr, stderr  # 128 + SIGINT, as shells expect
    statuses = {httpx.get(f"{live.url}/v1/tasks/{i}", headers=headers, timeout=10).json()["status"] for i in submitted}
    assert statuses == {"CANCELED"}
    assert not list((tmp_path / "o").glob("*"))
