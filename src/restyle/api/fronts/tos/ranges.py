"""``Range: bytes=...`` on GetObject: one range, as the SDK's ranged and resumable downloads send."""

from __future__ import annotations

import re

from restyle.errors import RestyleError

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte of a single-range header, None for no (or an ignored) range.

    A malformed or multi-range header is ignored (the whole object answers), as HTTP allows; a range
    that starts past the end is ``InvalidRange`` (416).
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.groups() == ("", ""):
        return None
    start, end = match.groups()
    if start == "":  # the last N bytes
        length = int(end)
        if length == 0:
            raise _invalid(header or "", size)
        return max(0, size - length), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        raise _invalid(header or "", size)
    return first, last


def _invalid(header: str, size: int) -> RestyleError:
    return RestyleError(
        f"Header 'Range' is '{header[:60]}'; the object has {size} bytes, so the range must start below {size}.",
        code="request.range",
        status=416,
    )
