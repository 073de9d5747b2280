"""What the client returns: :class:`Result` (a finished task and its image), :class:`TaskPage` and
:class:`Progress` (one report while a task waits or runs)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


@dataclass(frozen=True)
class Progress:
    """Where a task is: ``status`` (PENDING/RUNNING/...), the runner ``step`` and ``progress`` 0..1."""

    task_id: str
    status: str
    step: str | None = None
    progress: float = 0.0
    queue_position: int | None = None

    @classmethod
    def from_task(cls, task: dict[str, Any]) -> Progress:
        return cls(
            task_id=task["id"],
            status=task["status"],
            step=task.get("step"),
            progress=float(task.get("progress") or 0.0),
            queue_position=task.get("queue_position"),
        )

    @classmethod
    def from_event(cls, task_id: str, event: str, data: dict[str, Any]) -> Progress | None:
        """The progress an SSE event reports (``queued``, ``running``, ``step``); None for other events."""
        if event not in ("queued", "running", "step"):
            return None
        return cls(
            task_id=data.get("id", task_id),
            status=data.get("status", "RUNNING" if event == "step" else "PENDING"),
            step=data.get("step"),
            progress=float(data.get("progress") or 0.0),
            queue_position=data.get("queue_position"),
        )


@dataclass
class Result:
    """A SUCCEEDED task and its output image's bytes (fetched from the task's signed result link)."""

    task: dict[str, Any]
    data: bytes

    @property
    def id(self) -> str:
        return str(self.task["id"])

    @property
    def summary(self) -> dict[str, Any]:
        """The engine's report: style, seed, faces, timings, prompt words used and ignored, warnings."""
        return dict((self.task.get("result") or {}).get("summary") or {})

    @property
    def identity_distance(self) -> float | None:
        """Distance between the input's and the output's face embeddings; below 0.6 = the same person."""
        value = (self.task.get("result") or {}).get("identity_distance")
        return None if value is None else float(value)

    @property
    def style(self) -> str | None:
        return self.summary.get("style")

    @property
    def seed(self) -> int | None:
        return self.summary.get("seed")

    @property
    def format(self) -> str:
        images = (self.task.get("result") or {}).get("images") or [{}]
        return str(images[0].get("format") or self.summary.get("format") or "png")

    @property
    def image(self) -> Any:
        """The output as a PIL image (Pillow is imported on first use)."""
        from PIL import Image

        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the output's bytes to ``path`` (through a temporary file, so no half-written file stays)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        try:
            tmp.write_bytes(self.data)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target


@dataclass
class TaskPage:
    """One page of ``list``: tasks newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    data: list[dict[str, Any]]
    next_cursor: str | None = None
    has_more: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
