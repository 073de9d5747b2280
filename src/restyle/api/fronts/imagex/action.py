"""``POST /?Action=GetCVImageGenerateResult&Version=2023-05-01&ServiceId=...`` (seed [001]), signed
with HMAC-SHA256 for service ``ImageX``; handed over by the ``POST /`` dispatcher.

Steps: verify the caller; find the caller's service; check the template, output name and overwrite
before any generation; build the model body (``ModelAction`` / ``ModelVersion`` / ``ReqJson``, with
``ImageUrl`` replacing the body's images); run it as a task within the deadline; store the image under
the service; answer the storage URI, its URL on the bound ``Domain`` (``http://<Domain>/<name>~<Template>``,
served by :mod:`.domains`; a signed link when no Domain is sent) and the model response. Like the vendor, the stored object is the generated image and the template is applied when
the link is read (``ImageUrls`` carry it, ``StoreUris`` do not).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from restyle.api.deps import base_url
from restyle.api.fronts.imagex.domains import image_url
from restyle.api.fronts.imagex.errors import VERSION, error_response, metadata
from restyle.api.fronts.imagex.outputs import (
    already_exists,
    name_of_uri,
    output_name,
    storage_key,
    store_uri,
)
from restyle.api.fronts.models import model_body, translate
from restyle.api.fronts.models.generate import generate, model_response
from restyle.api.services import Services
from restyle.api.signed import verify_signed_request
from restyle.errors import InternalError, InvalidParameter, NotFound, RestyleError
from restyle.requests import parse_bool
from restyle.storage.imagex_services import ImagexServiceRow, ImagexServiceStore

log = logging.getLogger(__name__)


async def get_cv_image_generate_result(request: Request) -> Response:
    """The endpoint: every failure answers in the OpenAPI error format."""
    try:
        return await _run(request)
    except RestyleError as error:
        return error_response(request, error)
    except Exception:
        log.exception("unexpected error in GetCVImageGenerateResult")
        return error_response(request, InternalError("An unexpected error occurred; the server logged it."))


async def _run(request: Request) -> Response:
    services: Services = request.app.state.services
    # 1. the caller and the calling convention
    account = await verify_signed_request(request, scheme="volc", service="ImageX", keys=services.keys)
    version = request.query_params.get("Version")
    if version != VERSION:
        raise RestyleError(
            f"Query parameter 'Version' is {version!r}; GetCVImageGenerateResult is served at {VERSION}.",
            code="action.unknown",
            status=404,
            param="Version",
        )
    body = _json_object(await request.body())
    # 2. the caller's service
    service_id = request.query_params.get("ServiceId", "")
    if not service_id:
        raise InvalidParameter(
            "Query parameter 'ServiceId' is required: the id 'restyle imagex add-service' printed.",
            code="param.missing",
            param="ServiceId",
        )
    service = await asyncio.to_thread(ImagexServiceStore(services.db).get, service_id, account.id)
    _check_domain(service, body.get("Domain"))
    # 3. what would refuse the result, refused before generating it
    template = body.get("Template")
    if template not in (None, ""):
        if not isinstance(template, str):
            raise InvalidParameter("Parameter 'Template' must be a template name.", param="Template")
        services.templates.get(template)
    name = output_name(body.get("Outputs"))
    overwrite = parse_bool("Overwrite", body.get("Overwrite", False))
    key = storage_key(service.service_id, name)
    await _check_overwrite(services, service, name, key, overwrite)
    # 4. the model request
    model = model_body(body.get("ModelAction"), body.get("ModelVersion"), body.get("ReqJson"))
    if body.get("ImageUrl") not in (None, ""):
        model.pop("binary_data_base64", None)
        model.pop("image_urls", None)
        model.update(await _image_input(services, service, body["ImageUrl"]))
    translated = translate(model, services.settings, front="imagex")
    # 5. generate, then store under the service
    generated = await generate(services, account, translated)
    await _store(services, service, name, key, generated.image, overwrite)
    link = _image_link(await base_url(request, services), services, body.get("Domain"), key, name, template)
    result = {
        "RespJson": model_response(generated, translated.req_key, no_images=[]),
        "ImageUrls": [link],
        "StoreUris": [store_uri(service.service_id, name)],
    }
    return JSONResponse({"ResponseMetadata": metadata(request), "Result": result})


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise InvalidParameter("The request body is not valid JSON.", code="request.invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidParameter("The request body must be a JSON object.", code="request.invalid_json")
    return body


def _check_domain(service: ImagexServiceRow, domain: Any) -> None:
    """A ``Domain``, when sent, must be the domain bound to the service (case-insensitive)."""
    if domain in (None, ""):
        return
    if not isinstance(domain, str) or domain.lower() != service.domain.lower() or not service.domain:
        bound = f"is bound to '{service.domain}'" if service.domain else "has no bound domain"
        raise InvalidParameter(
            f"Parameter 'Domain' is {str(domain)[:100]!r}; service '{service.service_id}' {bound}.",
            param="Domain",
        )


def _image_link(base: str, services: Services, domain: Any, key: str, name: str, template: str | None) -> str:
    """The vendor's ``http://<Domain>/<name>~<Template>`` when the call names the (checked) bound
    domain, served by :mod:`.domains`; else a signed restyle link, as there is no domain to name."""
    if domain:
        return image_url("http", str(domain), name, template)
    link = services.signer.url(base, key)
    return link + (f"&x-template={quote(template, safe='')}" if template else "")


async def _check_overwrite(
    services: Services, service: ImagexServiceRow, name: str, key: str, overwrite: bool
) -> None:
    """Refuse early (before any generation) a name that is taken; :func:`_store` is the atomic check."""
    if not overwrite and await asyncio.to_thread(services.storage.exists, key):
        raise already_exists(service.service_id, name)


async def _store(
    services: Services, service: ImagexServiceRow, name: str, key: str, image: bytes, overwrite: bool
) -> None:
    """Store the result; without ``Overwrite`` only if the name is still free (one atomic step, so of
    two calls racing for a name exactly one stores and the other gets FileAlreadyExists)."""
    if overwrite:
        await asyncio.to_thread(services.storage.put, key, image)
    elif not await asyncio.to_thread(services.storage.put_if_absent, key, image):
        raise already_exists(service.service_id, name)


async def _image_input(services: Services, service: ImagexServiceRow, image_url: Any) -> dict[str, Any]:
    """``ImageUrl`` as a model input: an http(s) URL is fetched by the worker; anything else is an
    image stored in this service (its store URI or name)."""
    if not isinstance(image_url, str):
        raise InvalidParameter("Parameter 'ImageUrl' must be a URL or a store URI.", param="ImageUrl")
    if image_url.startswith(("http://", "https://")):
        return {"image_urls": [image_url]}
    key = storage_key(service.service_id, name_of_uri(service.service_id, image_url))
    try:
        data = await asyncio.to_thread(services.storage.get, key)
    except NotFound:
        raise NotFound(
            f"Parameter 'ImageUrl' is '{image_url[:200]}'; no such image is stored in service "
            f"'{service.service_id}'.",
            code="imagex.image_not_found",
            param="ImageUrl",
        ) from None
    return {"binary_data_base64": [base64.b64encode(data).decode("ascii")]}
