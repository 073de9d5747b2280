"""Per-account submit rate limits with the ``limits`` library.

``limits.storage_uri`` chooses where the counts live: ``memory://`` for one API process, or
``redis://host:6379/N`` so that every API process counts one account's submits together. A
count store that cannot be reached answers 503 with Retry-After (StoreUnavailable), never a 500
and never an unlimited pass. The concurrency limit needs no store of its own: workers count an
account's RUNNING tasks in the task store when they claim (:mod:`restyle.tasks.lease`).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond, storage, strategies
from limits.errors import StorageError

from restyle.auth.models import AccountRow
from restyle.errors import RateLimited, StoreUnavailable

LIMITS_RETRY_SECONDS = 2.0


def rate_item(qps: float) -> RateLimitItem:
    """``qps`` submits per second as a limits item (0.5 = 1 per 2 s, 2.5 = 5 per 2 s)."""
    if qps >= 1 and float(qps).is_integer():
        return RateLimitItemPerSecond(int(qps), 1)
    for seconds in range(1, 61):
        amount = qps * seconds
        if amount >= 1 and abs(amount - round(amount)) < 1e-6:
            return RateLimitItemPerSecond(round(amount), seconds)
    return RateLimitItemPerSecond(max(1, math.floor(qps * 60)), 60)


class SubmitRateLimiter:
    """A moving-window limiter keyed by account."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(storage_uri, wrap_exceptions=True)
        )

    def hit(self, account: AccountRow) -> None:
        """Count one submit of ``account``; RateLimited (with ``retry_after`` seconds) when over."""
        item = rate_item(account.qps)
        try:
            if self._limiter.hit(item, "submit", account.id):
                return
            stats = self._limiter.get_window_stats(item, "submit", account.id)
        except StorageError as exc:
            raise StoreUnavailable(
                f"The rate-limit store is unavailable right now; retry in {LIMITS_RETRY_SECONDS:g} seconds.",
                retry_after=LIMITS_RETRY_SECONDS,
            ) from exc
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"Too many submits: this account may submit {account.qps:g} tasks per second. "
            f"Retry after {retry_after} s.",
            retry_after=retry_after,
        )
