"""The TOS object-storage front: buckets and objects in restyle's storage, ``x-tos-process`` image
processing, TOS4-HMAC-SHA256 signatures and TOS-format errors (one table, :mod:`.errors`).

Register with ``app.include_router(tos.router)`` and ``app.add_middleware(tos.TosTargetMiddleware,
settings=settings.tos)`` (the middleware finds the bucket and routes TOS requests to this front).
"""

from __future__ import annotations

from restyle.api.fronts.tos.routes import router
from restyle.api.fronts.tos.target import TosTargetMiddleware

__all__ = ["TosTargetMiddleware", "router"]
