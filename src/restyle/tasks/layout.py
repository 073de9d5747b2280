"""Where a task's files live in storage: everything of a task under one prefix."""

from __future__ import annotations

from restyle.domain import OutputFormat
from restyle.imaging.codecs import FILE_EXTENSIONS


def task_prefix(account_id: str, task_id: str) -> str:
    return f"tasks/{account_id}/{task_id}"


def input_key(account_id: str, task_id: str, name: str) -> str:
    return f"{task_prefix(account_id, task_id)}/input/{name}"


def output_key(account_id: str, task_id: str, attempt: int, index: int, fmt: OutputFormat) -> str:
    """Outputs carry the attempt number: a superseded attempt can never overwrite the result."""
    return f"{task_prefix(account_id, task_id)}/output/{attempt}-{index}.{FILE_EXTENSIONS[fmt]}"
