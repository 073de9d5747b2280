"""The server key file and the per-account submit rate limiter."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from restyle.auth.limits import SubmitRateLimiter, rate_item
from restyle.auth.models import AccountRow
from restyle.auth.serverkey import ServerKey
from restyle.errors import ConfigurationError, RateLimited


def test_the_server_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = ServerKey.load_or_create(tmp_path / "data")
    second = ServerKey.load_or_create(tmp_path / "data")
    path = tmp_path / "data" / "server.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.derive("urls") == second.derive("urls") != first.derive("secrets")
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["server.key"]
    configured = ServerKey.load_or_create(tmp_path / "other", base64.b64encode(b"c" * 32).decode())
    assert configured.derive("urls") == ServerKey(b"c" * 32).derive("urls")
    assert not (tmp_path / "other").exists()
    assert first.webhook_secret("acc_1").startswith("whsec_") and first.webhook_secret(
        "acc_1"
    ) != first.webhook_secret("acc_2")


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_bad_configured_server_key_is_a_clear_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError):
        ServerKey.load_or_create(tmp_path, text)


@pytest.mark.parametrize(
    ("qps", "amount", "seconds"), [(2, 2, 1), (0.5, 1, 2), (2.5, 5, 2), (0.3, 3, 10), (100, 100, 1)]
)
def test_rates_become_whole_amounts_per_period(qps: float, amount: int, seconds: int) -> None:
    item = rate_item(qps)
    assert (item.amount, item.get_expiry()) == (amount, seconds)


def test_the_limiter_answers_retry_after_per_account() -> None:
    limiter = SubmitRateLimiter()
    slow = AccountRow(id="acc_slow", name="slow", qps=0.5)
    other = AccountRow(id="acc_other", name="other", qps=0.5)
    limiter.hit(slow)
    with pytest.raises(RateLimited) as limited:
        limiter.hit(slow)
    assert limited.value.status == 429 and limited.value.retry_after in (1, 2)
    assert "0.5 tasks per second" in limited.value.message
    limiter.hit(other)  # one account's limit does not touch another's
