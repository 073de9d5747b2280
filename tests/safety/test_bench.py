"""Smoke test of bench/safety.py: one repeat, report written to a temporary file."""

from __future__ import annotations

from pathlib import Path

from bench.safety import main


def test_bench_writes_one_table_per_section(tmp_path: Path) -> None:
    report = tmp_path / "safety.md"
    main(["--repeats", "1", "--report", str(report)])
    text = report.read_text(encoding="utf-8")
    assert "## Image checks" in text and "## Prompt checks" in text
    assert "| astronaut 1024² (allowed) | nudenet check |" in text and "| refused |" in text
    assert "| general |" in text
    assert sum(line.startswith("|---|") for line in text.splitlines()) == 2
