"""``restyle worker`` refuses clearly when the settings do not describe a Celery deployment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from restyle.cli import app


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "RESTYLE_WORKERS__QUEUE=celery"),
        ({"RESTYLE_WORKERS__QUEUE": "celery"}, "RESTYLE_WORKERS__BROKER_URL"),
    ],
)
def test_worker_needs_the_celery_queue_and_a_broker(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["worker", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
