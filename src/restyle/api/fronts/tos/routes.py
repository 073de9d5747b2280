"""The TOS front's one route: every TOS request (moved under ``/_tos`` by the target middleware)
is verified (TOS4-HMAC-SHA256) and dispatched by method, bucket, key and query.

Unknown query parameters are ignored, as TOS does for the ones it does not know.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from restyle.api.deps import ServicesDep
from restyle.api.fronts.tos import aigc, bucket_ops, object_ops
from restyle.api.fronts.tos.context import TosCall
from restyle.api.fronts.tos.errors import TosRoute
from restyle.api.fronts.tos.target import PREFIX, SCOPE_KEY, TosTarget
from restyle.api.signed import verify_signed_request
from restyle.errors import NotFound, RestyleError

router = APIRouter(tags=["tos"], route_class=TosRoute)

Operation = Callable[[TosCall], Awaitable[Response]]
AIGC_PREFIX = "aigc/"

SERVICE_OPS: dict[str, Operation] = {"GET": bucket_ops.list_buckets}
BUCKET_OPS: dict[str, Operation] = {
    "PUT": bucket_ops.create_bucket,
    "HEAD": bucket_ops.head_bucket,
    "DELETE": bucket_ops.delete_bucket,
    "GET": bucket_ops.list_objects,
}
# Bucket-level ``GET /?x-tos-process=NAME`` handlers (seed [003]'s aigc/image_to_image in aigc.py);
# an aigc/ name with no handler answers NotImplemented.
BUCKET_PROCESSES: dict[str, Operation] = {"aigc/image_to_image": aigc.image_to_image}
OBJECT_OPS: dict[str, Operation] = {
    "PUT": object_ops.put_object,
    "GET": object_ops.get_object,
    "HEAD": object_ops.head_object,
    "DELETE": object_ops.delete_object,
}


def _not_allowed(method: str, what: str) -> RestyleError:
    return RestyleError(
        f"Method {method} is not supported on {what} by restyle's TOS front.",
        code="request.method",
        status=405,
    )


def operation(request: Request, target: TosTarget) -> Operation:
    """The handler of this request (an aigc/ process with no handler is refused as not implemented)."""
    method = request.method
    if target.bucket is None and not target.key:
        ops, what = SERVICE_OPS, "the service"
    elif not target.key:
        process = request.query_params.get("x-tos-process", "")
        if process in BUCKET_PROCESSES and method == "GET":
            return BUCKET_PROCESSES[process]
        if process.startswith(AIGC_PREFIX):
            raise RestyleError(
                f"x-tos-process={process[:40]} is not available yet on this server; process stored "
                "images with GET /KEY?x-tos-process=image/... instead.",
                code="feature.not_supported",
                status=501,
            )
        ops, what = BUCKET_OPS, "a bucket"
    else:
        ops, what = OBJECT_OPS, "an object"
    if method not in ops:
        raise _not_allowed(method, what)
    return ops[method]


@router.api_route(
    PREFIX + "/{key:path}",
    methods=["GET", "HEAD", "PUT", "DELETE", "POST"],
    include_in_schema=False,
)
async def tos_entry(key: str, request: Request, services: ServicesDep) -> Response:
    target: TosTarget | None = request.scope.get(SCOPE_KEY)
    if target is None:
        raise NotFound("This path is served only to TOS requests.", code="not_found")
    account = await verify_signed_request(request, scheme="tos", service="tos", keys=services.keys)
    handler = operation(request, target)
    return await handler(TosCall(request, services, account, target))
