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


def test_the_celery_app_acknowledges_late_one_message_at_a_time(tmp_path: Path) -> None:
    from restyle.config import Settings
    from restyle.tasks.celery_queue import create_celery_app, queue_name

    settings = Settings.load(
        data_dir=str(tmp_path),
        workers={"queue": "celery", "broker_url": "redis://127.0.0.1:6379/9", "queue_prefix": "p"},
        tasks={"deadline_seconds": 900},
    )
    conf = create_celery_app(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > 900  # above the longest task
    assert conf.task_default_queue == "p.classic"
    assert queue_name(settings, "diffusion") == "p.diffusion"
