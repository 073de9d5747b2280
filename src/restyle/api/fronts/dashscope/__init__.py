"""The DashScope front: ``wanx-style-repaint-v1`` over DashScope's async task API (seed [004]).

``POST /api/v1/services/aigc/image-generation/generation`` and ``GET /api/v1/tasks/{task_id}``
with ``Authorization: Bearer <api key>``; errors from :mod:`.errors`, the front's one table.
"""

from __future__ import annotations

from restyle.api.fronts.dashscope.routes import router

__all__ = ["router"]
