"""``create_app(settings)``: the FastAPI application of the native API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from restyle import __version__
from restyle.api.background import Background
from restyle.api.deps import known_query_only
from restyle.api.errors import install_error_handlers
from restyle.api.fronts import dashscope, imagex, tos, volc
from restyle.api.metrics import TaskMetrics
from restyle.api.middleware import RequestIdMiddleware
from restyle.api.routes import accounts, events, files, health, process, styles, tasks
from restyle.api.services import Services, build_services
from restyle.api.web import router as studio_router
from restyle.config import Settings

DESCRIPTION = """Turn a portrait photo into a stylized portrait that keeps the person recognisable.

Authenticate with `Authorization: Bearer <api key>` (create keys with `restyle keys create`).
Errors are `{"error": {"code", "message"}, "request_id"}`."""


def create_app(
    settings: Settings | None = None, *, services: Services | None = None, start_workers: bool = True
) -> FastAPI:
    """The app; its lifespan starts the worker pool (unless ``start_workers`` is False) and the
    background loops, and stops them on shutdown (running tasks go back to PENDING)."""
    services = services or build_services(settings or Settings.load())
    background = Background(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.feed.bind(asyncio.get_running_loop())
        if start_workers:
            services.queue.start()
        background.start()
        try:
            yield
        finally:
            await background.stop()
            if start_workers:
                await asyncio.to_thread(services.queue.stop)
            services.db.dispose()

    app = FastAPI(
        title="restyle",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics = TaskMetrics(services.store, services.queue)
    app.add_middleware(RequestIdMiddleware)
    # TOS requests (absolute-form proxy targets, bucket hosts, custom domains) go to the TOS front
    app.add_middleware(tos.TosTargetMiddleware, settings=services.settings.tos)
    app.add_middleware(imagex.ImagexDomainMiddleware, services=services)  # GETs on bound ImageX domains
    install_error_handlers(app)
    # Unknown query parameters are refused where parameters matter; signed file links, health and
    # metrics take extras (cache busters, probes) without complaint.
    strict = [Depends(known_query_only)]
    for module in (tasks, events, styles, accounts, process):
        app.include_router(module.router, dependencies=strict)
    for module in (files, health):
        app.include_router(module.router)
    app.include_router(studio_router)  # the web studio page at / and /studio
    # Vendor fronts answer in their vendor's error format and take unknown query parameters as
    # their vendor does (DashScope ignores them).
    app.include_router(dashscope.router)
    app.include_router(volc.router)
    app.include_router(imagex.router)  # its OpenAPI action registers with volc's POST / dispatcher
    app.include_router(tos.router)
    return app


def api_only_app() -> FastAPI:
    """The app factory of an API-only process, for ``uvicorn --factory --workers N
    restyle.api.app:api_only_app``: settings from the environment (``RESTYLE_*``), no worker pool
    (workers run elsewhere), each uvicorn process building its own services."""
    return create_app(Settings.load(), start_workers=False)
