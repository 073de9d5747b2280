"""``GET /v1/styles``: the style presets of the configured engine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from restyle.api.deps import ServicesDep

router = APIRouter(prefix="/v1/styles", tags=["styles"])


@router.get("", summary="List style presets")
def list_styles(services: ServicesDep) -> dict[str, Any]:
    """Presets by name and (for the numbered ones) index; ``style`` accepts either."""
    return {"object": "list", "data": [preset.to_dict() for preset in services.pipeline.presets()]}
