"""The web studio: one page at ``/`` and ``/studio`` that drives the native API from a browser.

Plain ES modules and CSS from ``static/`` (no build step, nothing fetched from elsewhere), served
with a strict Content-Security-Policy; preset thumbnails from :mod:`restyle.api.web.thumbs`.
The page keeps the API key in the browser's storage and sends it only as an ``Authorization`` header.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from restyle.api.deps import ServicesDep
from restyle.api.web.thumbs import ThumbnailCache
from restyle.errors import NotFound, RestyleError

STATIC = Path(__file__).with_name("static")
# No inline script or style, no plug-ins, no framing; images also from blob: (previews of the
# chosen photos) and data:; fetch() only to this server.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # result links carry signatures
    "Cache-Control": "no-cache",
}
_ASSET = re.compile(r"^[a-z0-9_-]+\.(js|css|svg)$")
_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
_THUMB = re.compile(r"^([a-z0-9_]+)\.webp$")

router = APIRouter(include_in_schema=False)
_cache_lock = threading.Lock()


@router.get("/")
@router.get("/studio")
def studio_page(request: Request) -> FileResponse:
    if "Action" in request.query_params:  # a Volcengine-style call: those are POST / (the volc front)
        raise RestyleError(
            "Volcengine actions are POST /?Action=...&Version=...; see /docs.", code="method.not_allowed", status=405
        )
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/studio/static/{name}")
def studio_asset(name: str) -> FileResponse:
    match = _ASSET.match(name)
    path = STATIC / name
    if match is None or not path.is_file():
        raise NotFound(f"The studio has no file '{name}'.", code="endpoint.not_found")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    return FileResponse(path, media_type=_TYPES[match.group(1)], headers=headers)


def thumbnails(request: Request, services: ServicesDep) -> ThumbnailCache:
    """The app's thumbnail cache, made on first use (nothing is rendered before a thumbnail is asked for)."""
    with _cache_lock:
        cache: ThumbnailCache | None = getattr(request.app.state, "studio_thumbs", None)
        if cache is None:
            presets = [preset.name for preset in services.pipeline.presets()]
            cache = ThumbnailCache(services.settings, presets, services.settings.data_dir / "studio" / "thumbs")
            request.app.state.studio_thumbs = cache
        return cache


@router.get("/studio/thumbs/{name}")
def studio_thumbnail(name: str, request: Request, services: ServicesDep) -> FileResponse:
    """The bundled sample in preset ``name`` (``anime.webp``), 160 px square."""
    match = _THUMB.match(name)
    known = {preset.name for preset in services.pipeline.presets()}
    if match is None or match.group(1) not in known:
        raise NotFound(f"There is no preset thumbnail '{name}'; see GET /v1/styles.", code="style.not_found")
    path = thumbnails(request, services).get(match.group(1))
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": "public, max-age=3600"})
