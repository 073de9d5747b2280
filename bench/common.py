"""Helpers shared by the bench scripts: machine description, portraits, markdown tables."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent
REPORTS = ROOT / "reports"
sys.path.insert(0, str(ROOT.parent / "src"))


def single_thread() -> None:
    """Pin the libraries we use to one thread so figures are per core."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    cv2.setNumThreads(1)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, OpenCV {cv2.__version__}; {when}"


def table(headers: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def square(image: np.ndarray, side: int) -> np.ndarray:
    """Centre square crop resized to ``side`` x ``side``."""
    h, w = image.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = image[top : top + s, left : left + s]
    interpolation = cv2.INTER_AREA if side < s else cv2.INTER_CUBIC
    return cv2.resize(crop, (side, side), interpolation=interpolation)
