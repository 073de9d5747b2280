"""`restyle keys create | list | revoke` on a data folder, in real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from restyle.auth.keys import KeyStore
from restyle.config import Settings
from restyle.errors import AuthenticationError

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def keys(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "restyle.cli", "keys", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120)


def test_create_list_revoke(tmp_path: Path) -> None:
    from restyle.api.services import build_services

    data_dir = tmp_path / "data"
    made = keys("create", "--name", "studio", "--qps", "5", "--concurrency", "2", "--json", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    credentials = json.loads(made.stdout)
    assert credentials["api_key"].startswith("rsk_") and credentials["access_key_id"]
    assert len(credentials["secret_access_key"]) >= 32
    second = json.loads(keys("create", "--name", "studio", "--json", data_dir=data_dir).stdout)
    assert second["account_id"] == credentials["account_id"] and second["api_key"] != credentials["api_key"]

    listing = json.loads(keys("list", "--json", data_dir=data_dir).stdout)
    [account] = listing
    assert account["name"] == "studio" and account["qps"] == 5 and account["concurrency"] == 2
    assert len(account["keys"]) == 2
    assert credentials["api_key"] not in json.dumps(listing)  # secrets are never shown again
    assert credentials["secret_access_key"] not in json.dumps(listing)

    revoked = keys("revoke", credentials["access_key_id"], data_dir=data_dir)
    assert revoked.returncode == 0 and credentials["access_key_id"] in revoked.stdout
    services = build_services(Settings(data_dir=data_dir))
    store: KeyStore = services.keys
    with pytest.raises(AuthenticationError):
        store.authenticate(credentials["api_key"])
    assert store.authenticate(second["api_key"]).id == credentials["account_id"]
    services.db.dispose()
    listing = json.loads(keys("list", "--json", data_dir=data_dir).stdout)
    assert sum(1 for key in listing[0]["keys"] if key["revoked_at"]) == 1


def test_errors_are_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    unknown = keys("revoke", "nope", data_dir=data_dir)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr and "nope" in unknown.stderr
    bad = keys("create", "--name", "x", "--qps", "-1", data_dir=data_dir)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "qps" in bad.stderr
