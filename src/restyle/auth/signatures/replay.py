"""An optional guard against the exact replay of a signed request inside its signature window.

Off by default: the window check already refuses a replay once the window is over, and SDKs that
retry a request without signing it again (same second, same signature) would be refused by it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from restyle.errors import SignatureReplayed


class ReplayCache:
    """Signatures seen within their window, bounded to ``max_entries`` (the oldest are forgotten first).

    One instance per process; safe to share between threads.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def remember(self, signature: str, *, expires_at: datetime, now: datetime) -> None:
        """Record ``signature`` until ``expires_at``; raise SignatureReplayed if it is already there."""
        with self._lock:
            self._forget_expired(now)
            if signature in self._seen:
                raise SignatureReplayed(
                    "This exact signed request was already accepted; sign each request anew (the "
                    "signature includes the X-Date / x-tos-date time).",
                    param="Authorization",
                )
            self._seen[signature] = expires_at
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)

    def _forget_expired(self, now: datetime) -> None:
        # Insertion order is close to expiry order (one window for all), so stop at the first live one.
        while self._seen:
            signature, expires_at = next(iter(self._seen.items()))
            if expires_at >= now:
                return
            del self._seen[signature]
