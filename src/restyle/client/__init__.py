"""Python client of the restyle native API.

```python
from restyle.client import Client

with Client("http://127.0.0.1:8000", "rsk_...") as client:
    client.restyle("me.jpg", style="anime", seed=42).save("me_anime.png")
```

Light to import: httpx only (no engine, OpenCV, NumPy or server modules).
"""

from __future__ import annotations

from restyle.client.aio import AsyncClient
from restyle.client.errors import (
    ApiError,
    AuthenticationError,
    ClientError,
    ConnectionFailed,
    InvalidInput,
    NotFound,
    RateLimited,
    ServerUnavailable,
    TaskFailed,
    WaitTimeout,
)
from restyle.client.models import Progress, Result, TaskPage
from restyle.client.sync import Client

__all__ = [
    "ApiError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "InvalidInput",
    "NotFound",
    "Progress",
    "RateLimited",
    "Result",
    "ServerUnavailable",
    "TaskFailed",
    "TaskPage",
    "WaitTimeout",
]
