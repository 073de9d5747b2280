"""The console script turns a restyle error that escapes a command into one line and an exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_unreachable_object_storage_at_start_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RESTYLE_DATA_DIR": str(tmp_path),
        "RESTYLE_STORAGE__KIND": "s3",
        # port 1 on loopback: nothing listens there, so every connection is refused at once
        "RESTYLE_STORAGE__OPTIONS": '{"bucket": "bucket", "endpoint_url": "http://127.0.0.1:1"}',
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "restyle.cli", "serve", "--port", "0", "--no-workers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("restyle: ") and "storage.unavailable" in last and "endpoint_url" in last
