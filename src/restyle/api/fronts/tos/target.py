"""Which requests are TOS requests, and which bucket each names.

The TOS SDK addresses ``http://BUCKET.ENDPOINT/KEY``. Reaching restyle on 127.0.0.1 it either goes
through a proxy (an absolute-form target ``GET http://bucket.tos-cn-beijing.volces.com/key``) or
uses a custom domain (``Host`` mapped to a bucket by ``tos.custom_domains``). The middleware here
finds the bucket (from the Host's first label, the custom-domain table or the absolute-form target)
and moves TOS requests under :data:`PREFIX`, so they never meet the native API's routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from restyle.config import TosSettings

PREFIX = "/_tos"
SCOPE_KEY = "tos"  # scope["tos"]: the TosTarget of a TOS request
_ALGORITHM = b"TOS4-HMAC-SHA256"


@dataclass(frozen=True)
class TosTarget:
    """A TOS request's bucket (None for service-level calls such as ListBuckets) and object key."""

    bucket: str | None
    key: str
    host: str


def host_name(host: str) -> str:
    """A Host header value without its port, lower case."""
    return (host.rsplit(":", 1)[0] if not host.startswith("[") else host).lower()


def bucket_of_host(host: str, settings: TosSettings) -> tuple[bool, str | None]:
    """``(is_tos_host, bucket)`` for a Host header value (its port ignored)."""
    name = host_name(host)
    if name in settings.custom_domains:
        return True, settings.custom_domains[name]
    if name.startswith("tos-") or name in settings.endpoint_hosts:
        return True, None  # the service endpoint itself: ListBuckets
    first, _, rest = name.partition(".")
    if first and (rest.startswith("tos-") or rest in settings.endpoint_hosts):
        return True, first
    return False, None


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


def resolve(scope: Scope, settings: TosSettings) -> TosTarget | None:
    """The TosTarget of a TOS request, or None for any other request.

    Steps: 1. an absolute-form target (h11 keeps it whole in ``path``) gives the host and the path;
    2. otherwise the Host header does; 3. it is a TOS request when the host is a TOS host or the
    request is signed with TOS4-HMAC-SHA256 (a custom domain counts only for signed requests).
    """
    path: str = scope["path"]
    host = _header(scope, b"host").decode("latin-1")
    absolute = path.startswith(("http://", "https://"))
    # 1. absolute form: split the raw target, so that an encoded '?' or '/' in a key stays in the key
    if absolute:
        raw = bytes(scope.get("raw_path") or path.encode()).decode("latin-1")
        parts = urlsplit(raw)
        host = host or parts.netloc
        path = unquote(parts.path) or "/"
    # 2. and 3.
    is_tos, bucket = bucket_of_host(host, settings)
    signed_tos = _header(scope, b"authorization").startswith(_ALGORITHM)
    if host_name(host) in settings.custom_domains and not (signed_tos or absolute):
        return None  # a custom domain may also serve the native API (Bearer requests) and the studio
    if not (is_tos or absolute or signed_tos):
        return None
    return TosTarget(bucket=bucket, key=path.lstrip("/"), host=host)


class TosTargetMiddleware:
    """Pure ASGI middleware: rewrites a TOS request's path to ``/_tos/<key>`` and records its target.

    ``raw_path`` stays as sent, so the signature check still sees the target the client signed.
    """

    def __init__(self, app: ASGIApp, settings: TosSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = resolve(scope, self.settings)
            if target is not None:
                scope = dict(scope)
                scope["path"] = f"{PREFIX}/{target.key}"
                scope[SCOPE_KEY] = target
                scope["tos_resource"] = "/" + target.key  # the Resource of a TOS error body
            elif scope["path"].startswith(PREFIX + "/"):
                scope = dict(scope)
                scope["path"] = "/_not_tos" + scope["path"]  # only the middleware may route here
        await self.app(scope, receive, send)
