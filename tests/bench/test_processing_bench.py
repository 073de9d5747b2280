"""Smoke test of bench/processing.py: a quick run without thumbor on one small input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "processing.py"


def test_processing_bench_runs_every_operation_with_equal_output_sizes(tmp_path: Path) -> None:
    report = tmp_path / "processing.md"
    args = ["--quick", "--no-thumbor", "--small", "--report", str(report), "--cache", str(tmp_path)]
    done = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = report.read_text()
    for operation in ("resize w 256", "crop 512x512 g_center", "rotate 90", "format webp", "chain"):
        assert f"| {operation}" in text
    assert "restyle img/s" in text and "restyle/Pillow" in text
    assert "restyle-http img/s" in text  # restyle over HTTP, like thumbor
    assert "size differs" not in text
