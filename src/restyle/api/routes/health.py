"""``/healthz`` (the process answers), ``/readyz`` (engine warmed, store reachable), ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from restyle import __version__
from restyle.api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, Any]:
    """Always 200 while the process serves requests."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready yet."}})
def readyz(services: ServicesDep) -> JSONResponse:
    checks = {
        "database": services.db.ping(),
        "storage": services.storage.healthcheck(),
        "engine": services.queue.ready(),
    }
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "checks": checks,
        "workers": services.queue.describe(),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
