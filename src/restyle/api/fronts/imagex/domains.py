"""veImageX's public image URLs: ``http://<bound domain>/<name>~<template>`` (seed [001] ``ImageUrls``).

An app points a service's bound domain at restyle (DNS or a proxy); a ``GET`` or ``HEAD`` whose Host
is exactly a bound domain and whose path is ``/<name>~<template>`` (or ``/<name>``) answers the
service's stored image processed by that named template, like the vendor's CDN (public, unsigned).
The middleware moves such requests under :data:`PREFIX` (any other request, including ``/`` and calls
carrying ``Authorization``, passes untouched) and the route serves them with the same processing code
as signed file links (:func:`restyle.imaging.derived.process_stored`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from restyle.api.fronts.imagex.outputs import output_name, storage_key
from restyle.api.fronts.tos.target import host_name
from restyle.api.processing import derive
from restyle.api.services import Services
from restyle.errors import InvalidParameter, NotFound
from restyle.imaging.sniff import SNIFF_BYTES, sniff_image
from restyle.storage.imagex_services import ImagexServiceStore

PREFIX = "/_imagex"
SCOPE_KEY = "imagex_service"  # scope["imagex_service"]: the ServiceId a bound domain names
CACHE_SECONDS = 5.0  # a domain bound in another process is served within this (if asked before)
CACHE_ENTRIES = 1024
TEMPLATE_MARK = "~"  # names cannot contain it (outputs.py), so the first one splits
_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
          "bmp": "image/bmp", "tiff": "image/tiff", "ico": "image/x-icon", "avif": "image/avif",
          "heif": "image/heic"}  # fmt: skip

router = APIRouter(tags=["imagex"], include_in_schema=False)


def image_url(scheme: str, domain: str, name: str, template: str | None) -> str:
    """The vendor's ``ImageUrls`` entry: ``<scheme>://<Domain>/<name>~<Template>``."""
    return f"{scheme}://{domain}/{name}" + (f"{TEMPLATE_MARK}{template}" if template else "")


class DomainCache:
    """Bound domain -> ServiceId (or None), each answer kept :data:`CACHE_SECONDS`."""

    def __init__(self, services: Services) -> None:
        self.store = ImagexServiceStore(services.db)
        self.entries: dict[str, tuple[str | None, float]] = {}

    async def service_of(self, host: str) -> str | None:
        name = host_name(host)
        now = time.monotonic()
        cached = self.entries.get(name)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        row = await asyncio.to_thread(self.store.by_domain, name)
        if len(self.entries) >= CACHE_ENTRIES:
            self.entries.clear()  # many distinct Host values: start over rather than grow
        self.entries[name] = (row.service_id if row else None, now)
        return row.service_id if row else None


def _header(scope: Scope, name: bytes) -> bytes:
    return next((bytes(value) for key, value in scope["headers"] if key == name), b"")


class ImagexDomainMiddleware:
    """Pure ASGI middleware: an unsigned GET/HEAD of ``/<something>`` on a bound domain goes to
    ``/_imagex/<something>`` with its ServiceId recorded; nothing else may reach that prefix."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.domains = DomainCache(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(PREFIX + "/"):
                scope = {**scope, "path": "/_not_imagex" + path}  # only the middleware routes here
            elif (
                scope["method"] in ("GET", "HEAD")
                and path.startswith("/")
                and path != "/"
                and not _header(scope, b"authorization")
                and (service_id := await self.domains.service_of(_header(scope, b"host").decode("latin-1")))
            ):
                scope = {**scope, "path": PREFIX + path, SCOPE_KEY: service_id}
        await self.app(scope, receive, send)


def _name_and_template(target: str) -> tuple[str, str | None]:
    name, mark, template = target.partition(TEMPLATE_MARK)
    if mark and not template:
        raise InvalidParameter("The path ends with '~' but names no template.", param="template")
    try:
        return output_name([name]), (template or None)
    except InvalidParameter as error:  # the same rules as Outputs: no '..', no '//', no escape
        raise InvalidParameter(
            f"The image name in the path is not valid: {error.message}", param="name"
        ) from None


@router.api_route(PREFIX + "/{target:path}", methods=["GET", "HEAD"], response_class=Response)
async def serve(request: Request, target: Annotated[str, Path()]) -> Response:
    """A service's stored image, through ``~<template>`` when the path names one."""
    services: Services = request.app.state.services
    service_id = request.scope.get(SCOPE_KEY)
    if not service_id:
        raise NotFound("No such route.", code="http.404")
    name, template = _name_and_template(target)
    key = storage_key(service_id, name)
    headers = {"Cache-Control": "public, max-age=3600"}
    if template is None:
        try:
            data = await asyncio.to_thread(services.storage.get, key)
        except NotFound:
            raise NotFound(
                f"No image named '{name}' is stored here.", code="imagex.image_not_found"
            ) from None
        media_type = _MEDIA.get(sniff_image(data[:SNIFF_BYTES]) or "", "application/octet-stream")
        return Response(data, media_type=media_type, headers=headers)
    chain = services.templates.get(template)
    try:  # a public URL opens one image: watermarks naming others are refused
        derived = await derive(services, key, chain)
    except NotFound as error:
        if error.code == "template.unknown":
            raise
        raise NotFound(f"No image named '{name}' is stored here.", code="imagex.image_not_found") from None
    headers["X-Restyle-Cache"] = "hit" if derived.cached else "miss"
    return Response(derived.data, media_type=derived.media_type, headers=headers)
