"""``make cluster`` brings a whole scale-out deployment up on loopback (Redis, PostgreSQL, moto S3, two
API processes behind a proxy, two Celery workers): a task submitted to its URL succeeds and its link
downloads; ``make cluster-stop`` ends exactly the processes of its pid files."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from restyle.devcluster.processes import read_pid
from tests.distributed.conftest import PG_ADMIN

pytestmark = [pytest.mark.slow, pytest.mark.services]

REPO = Path(__file__).resolve().parents[2]
EXPECTED = ["api-1", "api-2", "proxy", "s3", "worker-1", "worker-2"]


def make(target: str, args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    # -o: the venv is already installed (the test runs inside it); do not reinstall for an edited pyproject
    command = ["make", "-s", "-o", ".venv/.installed-test", target, f"CLUSTER_ARGS={args}"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def logs(run_dir: Path) -> str:
    return "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in sorted(run_dir.glob("*.log"))
    )


@pytest.mark.timeout(600)
def test_make_cluster_runs_a_task_and_cluster_stop_ends_it(
    services_up: None, tmp_path: Path, astronaut_png: bytes
) -> None:
    run_dir = tmp_path / "cluster"
    database = f"restyle_cluster_{uuid.uuid4().hex[:10]}"
    args = f"--run-dir {run_dir} --redis-db 10 --database {database}"
    pids: dict[str, int | None] = {}
    try:
        # 1. start: url and api_key on lines of their own, one pid file per process
        started = make("cluster", args, timeout=420)
        assert started.returncode == 0, started.stdout + started.stderr + logs(run_dir)
        url = re.search(r"^url: (http://127\.0\.0\.1:\d+)$", started.stdout, re.M)
        api_key = re.search(r"^api_key: (\S+)$", started.stdout, re.M)
        assert url and api_key, started.stdout
        pids = {pid_file.stem: read_pid(pid_file) for pid_file in run_dir.glob("*.pid")}
        assert sorted(name for name in pids if name not in ("redis", "postgres")) == EXPECTED
        assert all(pids.values()), pids
        # 2. one task through the proxy: SUCCEEDED, and its link downloads the image
        headers = {"Authorization": f"Bearer {api_key.group(1)}"}
        body = {"image": {"base64": base64.b64encode(astronaut_png).decode()}, "style": "sketch"}
        submitted = httpx.post(
            url.group(1) + "/v1/tasks", json=body, headers={**headers, "Prefer": "respond-async"}, timeout=30
        )
        assert submitted.status_code == 202, submitted.text
        deadline = time.monotonic() + 180
        while True:
            task = httpx.get(
                f"{url.group(1)}/v1/tasks/{submitted.json()['id']}", headers=headers, timeout=10
            ).json()
            if task["status"] not in ("PENDING", "RUNNING"):
                break
            assert time.monotonic() < deadline, task
            time.sleep(0.2)
        assert task["status"] == "SUCCEEDED", (task, logs(run_dir))
        download = httpx.get(task["result"]["images"][0]["url"], timeout=10)
        assert download.status_code == 200 and Image.open(io.BytesIO(download.content)).size == (320, 320)
    finally:
        # 3. stop: every process of a pid file is gone, the pid files too
        stopped = make("cluster-stop", args, timeout=120)
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()
    assert stopped.returncode == 0 and "stopped: " in stopped.stdout, stopped.stdout + stopped.stderr
    assert not list(run_dir.glob("*.pid"))
    for name, pid in pids.items():
        assert pid is None or not Path(f"/proc/{pid}").exists() or _zombie(pid), name


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
