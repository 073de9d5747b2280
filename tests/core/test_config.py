"""Settings: file, environment and overrides, and a clear error for every bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from restyle.config import Settings
from restyle.errors import ConfigurationError


def test_environment_wins_over_the_file_and_overrides_over_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "restyle.yaml"
    config.write_text("server:\n  port: 9001\n  log_level: debug\nlimits:\n  default_qps: 5\n")
    monkeypatch.setenv("RESTYLE_SERVER__PORT", "9002")
    settings = Settings.load(config, limits={"default_qps": 7})
    assert settings.server.port == 9002
    assert settings.server.log_level == "debug"
    assert settings.limits.default_qps == 7


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"RESTYLE_SERVER__PORT": "abc"}, "RESTYLE_SERVER__PORT (server.port)"),
        ({"RESTYLE_SERVER__PROT": "1"}, "RESTYLE_SERVER__PROT (server.prot): Extra inputs are not permitted"),
        ({"RESTYLE_TASKS__LEASE_SECONDS": "soon"}, "tasks.lease_seconds"),
        ({"RESTYLE_SEVER__PORT": "9000"}, "RESTYLE_SEVER__PORT names no settings section"),
        ({"RESTYLE_ENGINE__OPTIONS": "notjson"}, 'error parsing value for field "engine"'),
        ({"RESTYLE_FACES__DETECTOR": "mtcnn"}, "faces.detector"),
    ],
)
def test_a_bad_or_unknown_variable_names_itself(
    env: dict[str, str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError) as caught:
        Settings.load()
    assert needle in caught.value.message


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("bad.yaml", "server: [1\n", "is not valid YAML"),
        ("bad.json", "{", "cannot be read"),
        ("list.json", "[1, 2]", "must hold a mapping"),
        ("typo.yaml", "sever:\n  port: 1\n", "unknown section(s) sever"),
        ("typo2.yaml", "server:\n  prot: 1\n", "server.prot"),
    ],
)
def test_a_bad_settings_file_is_a_clear_error(tmp_path: Path, name: str, text: str, needle: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        Settings.load(path)
    assert needle in caught.value.message


def test_a_missing_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings.load(tmp_path / "nowhere.yaml")


def test_other_restyle_variables_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_TEST_PG", "postgresql://nowhere")  # no "__": not a setting
    assert Settings.load().server.port == 8000
