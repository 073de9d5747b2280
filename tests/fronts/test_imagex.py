"""The veImageX front (GetCVImageGenerateResult) driven by the real ``volcengine`` SDK (ImageX v2)
against a live ``restyle serve``: a service made by ``restyle imagex add-service``, generation with a
template, Outputs and Overwrite, ImageUrl as a URL and as a store URI, and the vendor's errors."""

from __future__ import annotations

import ast
import base64
import io
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from volcengine.imagex.v2.imagex_service import ImagexService

from restyle.auth.keys import Credentials
from tests.fronts.conftest import LiveServer, Photos

RESTYLE = str(Path(sys.executable).parent / "restyle")
TEMPLATE = "tplv-restyle-thumb"  # image/resize,m_lfit,w_512,h_512/format,webp


def imagex(server: LiveServer, creds: Credentials) -> ImagexService:
    """The SDK pointed at restyle (its service info is module-global, so set host and keys each time)."""
    service = ImagexService()
    service.set_scheme("http")
    service.set_host(server.base_url.removeprefix("http://"))
    service.set_ak(creds.access_key_id)
    service.set_sk(creds.secret_access_key)
    return service


def add_service(server: LiveServer, account: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        RESTYLE,
        "imagex",
        "add-service",
        "--account",
        account,
        "--data-dir",
        str(server.settings.data_dir),
    ]
    return subprocess.run([*command, *extra], capture_output=True, text=True, timeout=60, check=False)


def refused(call: Callable[[], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``ResponseMetadata`` and its ``Error`` of a refusal (the SDK raises with the raw body bytes)."""
    with pytest.raises(Exception) as info:
        call()
    raw = ast.literal_eval(str(info.value))
    assert isinstance(raw, bytes), str(info.value)
    meta: dict[str, Any] = json.loads(raw)["ResponseMetadata"]
    return meta, meta["Error"]


class Tenant:
    """An account with its access keys and one service made by the CLI."""

    def __init__(self, server: LiveServer, domain: str = "", options: dict[str, Any] | None = None) -> None:
        self.name = f"imagex-{uuid.uuid4().hex[:8]}"
        account = server.accounts.create(self.name, qps=100, concurrency=1, options=options)
        self.creds = server.keys.issue(account)
        done = add_service(server, self.name, *(["--domain", domain] if domain else []))
        assert done.returncode == 0, done.stderr
        self.service_id = done.stdout.strip()
        self.server = server

    def call(self, body: dict[str, Any], service_id: str | None = None) -> dict[str, Any]:
        query = {"ServiceId": service_id or self.service_id}
        sdk = imagex(self.server, self.creds)  # the keys are module-global in the SDK: set them per call
        answer: dict[str, Any] = sdk.get_cv_image_generate_result(query, body)
        return answer


@pytest.fixture(scope="module")
def tenant(live_server: LiveServer) -> Tenant:
    return Tenant(live_server, domain="img.example.com")


def face_base64(photos: Photos) -> str:
    return base64.b64encode(httpx.get(photos.url("face"), timeout=10).content).decode()


def on_domain(server: LiveServer, url: str, **headers: str) -> httpx.Response:
    """GET a veImageX URL (``http://<bound domain>/<name>~<template>``) as its CDN would be reached:
    from restyle's address with the URL's host in the Host header."""
    parts = urlsplit(url)
    return httpx.get(f"{server.base_url}{parts.path}", headers={"Host": parts.netloc, **headers}, timeout=20)


def opened(url: str, server: LiveServer | None = None) -> Image.Image:
    response = on_domain(server, url) if server is not None else httpx.get(url, timeout=20)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def test_generate_store_template_and_overwrite(tenant: Tenant, photos: Photos) -> None:
    sid = tenant.service_id
    body: dict[str, Any] = {
        "Domain": "img.example.com",
        "Template": TEMPLATE,
        "Outputs": ["portraits/demo1"],
        "ReqJson": {
            "req_key": "i2i_xl_sft",
            "binary_data_base64": [face_base64(photos)],
            "prompt": "portrait",
        },
        "ModelAction": "CVProcess",
        "ModelVersion": "2022-08-31",
    }
    # 1. generated, stored under the service, the link serving it through the template
    answer = tenant.call(body)
    meta = answer["ResponseMetadata"]
    assert {k: meta[k] for k in ("Action", "Version", "Service", "Region")} == {
        "Action": "GetCVImageGenerateResult",
        "Version": "2023-05-01",
        "Service": "ImageX",
        "Region": "cn-north-1",
    }
    assert meta["RequestId"] and "Error" not in meta
    result = answer["Result"]
    assert result["StoreUris"] == [f"tos-cn-i-{sid}/portraits/demo1"]
    assert result["RespJson"]["code"] == 10000 and result["RespJson"]["message"] == "Success"
    assert result["RespJson"]["data"]["algorithm_base_resp"]["status_code"] == 0
    # the seed's form: http://<Domain>/<name>~<Template>, served on that domain like the vendor's CDN
    assert result["ImageUrls"] == [f"http://img.example.com/portraits/demo1~{TEMPLATE}"]
    served = on_domain(tenant.server, result["ImageUrls"][0])
    assert served.headers["content-type"] == "image/webp"
    first = opened(result["ImageUrls"][0], tenant.server)
    assert first.format == "WEBP" and max(first.size) <= 512  # the template's resize and format
    original = on_domain(tenant.server, "http://img.example.com/portraits/demo1")
    assert original.status_code == 200 and original.headers["content-type"] in ("image/png", "image/jpeg")
    stored = Image.open(io.BytesIO(original.content))  # the stored image, untouched
    assert stored.format != "WEBP" and stored.size == first.size == (320, 320)  # lfit does not enlarge
    # 2. the same name again without Overwrite: refused, before any generation
    meta, error = refused(lambda: tenant.call(body))
    assert (error["Code"], meta["Action"]) == ("FileAlreadyExists", "GetCVImageGenerateResult")
    assert "Overwrite" in error["Message"]
    # 3. with Overwrite, from the stored image (ImageUrl as a store URI) through the model's own action
    again = {
        "Outputs": ["portraits/demo1"],
        "Overwrite": True,
        "ImageUrl": result["StoreUris"][0],
        "ModelAction": "Img2ImgXLSft",
        "ModelVersion": "2022-08-31",
        "ReqJson": {"prompt": "oil painting", "seed": 3},
    }
    before = original.content
    replaced = tenant.call(again)["Result"]
    assert replaced["StoreUris"] == result["StoreUris"]
    after = httpx.get(replaced["ImageUrls"][0], timeout=20).content  # no Domain: a signed link, no template
    assert "signature=" in replaced["ImageUrls"][0]
    assert Image.open(io.BytesIO(after)).format != "WEBP" and after != before


def test_image_url_by_http_replaces_the_req_json_images(tenant: Tenant, photos: Photos) -> None:
    body = {
        "Outputs": [f"u/{uuid.uuid4().hex[:6]}"],
        "ImageUrl": photos.url("face"),
        "ReqJson": {
            "req_key": "i2i_xl_sft",
            "prompt": "portrait",
            "image_urls": ["http://127.0.0.1:1/gone.png"],
        },
        "ModelAction": "CVProcess",
        "ModelVersion": "2022-08-31",
    }
    result = tenant.call(body)["Result"]
    assert opened(result["ImageUrls"][0]).size == (320, 320)


def test_unknown_and_foreign_service_ids_are_not_found(
    live_server: LiveServer, tenant: Tenant, photos: Photos
) -> None:
    other = Tenant(live_server)
    body = {"ReqJson": {"req_key": "i2i_xl_sft", "prompt": "p", "image_urls": [photos.url("face")]}}
    _, foreign = refused(lambda: tenant.call(body, service_id=other.service_id))
    _, unknown = refused(lambda: tenant.call(body, service_id="nosuchservice"))
    assert foreign["Code"] == unknown["Code"] == "ServiceNotFound"
    assert foreign["CodeN"] == unknown["CodeN"] and "ServiceId" in foreign["Message"]
    sdk = imagex(live_server, tenant.creds)
    _, missing = refused(lambda: sdk.get_cv_image_generate_result({}, body))
    assert (missing["Code"], missing["CodeN"]) == ("MissingParameter", 100002) and "ServiceId" in missing[
        "Message"
    ]
    assert other.call(body)["Result"]["StoreUris"][0].startswith(f"tos-cn-i-{other.service_id}/")


def test_refusals_name_the_parameter(tenant: Tenant, photos: Photos) -> None:
    base = {"ReqJson": {"req_key": "i2i_xl_sft", "prompt": "p", "image_urls": [photos.url("face")]}}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"Template": "tplv-none"}, "TemplateNotFound"),
        ({"Outputs": ["/lead"]}, "InvalidParameter"),
        ({"Outputs": ["a b"]}, "InvalidParameter"),
        ({"Outputs": ["x" * 181]}, "InvalidParameter"),
        ({"Domain": "other.example.com"}, "InvalidParameter"),
        ({"ModelAction": "Text2Image"}, "InvalidModel"),
        ({"ModelAction": "Img2ImgXLSft", "ReqJson": {"req_key": "i2i_portrait_photo"}}, "InvalidModel"),
        ({"ImageUrl": "missing-object"}, "ImageNotFound"),
    ]
    for change, code in cases:
        _, error = refused(lambda change=change: tenant.call({**base, **change}))  # type: ignore[misc]
        assert error["Code"] == code, (change, error)


def test_public_urls_on_bound_domains_only(live_server: LiveServer, tenant: Tenant, photos: Photos) -> None:
    body = {
        "Domain": "IMG.example.com",  # domains compare case-insensitively, and the URL keeps the caller's
        "Outputs": [f"pub/{uuid.uuid4().hex[:6]}"],
        "Template": TEMPLATE,
        "ReqJson": {"req_key": "i2i_xl_sft", "prompt": "p", "image_urls": [photos.url("face")]},
    }
    url = tenant.call(body)["Result"]["ImageUrls"][0]
    name = body["Outputs"][0]  # type: ignore[index]
    assert url == f"http://IMG.example.com/{name}~{TEMPLATE}"
    assert opened(url, live_server).format == "WEBP"
    head = httpx.head(f"{live_server.base_url}/{name}~{TEMPLATE}", headers={"Host": "img.example.com"})
    assert head.status_code == 200 and head.headers["content-type"] == "image/webp"
    # 1. a Domain not bound to the service is refused, also on a service without any domain
    bare = Tenant(live_server)
    _, unbound = refused(lambda: bare.call({**body, "Domain": "img.example.com"}))
    assert unbound["Code"] == "InvalidParameter" and "no bound domain" in unbound["Message"], unbound
    # 2. a missing name or template: 404 in restyle's own error form
    missing = on_domain(live_server, f"http://img.example.com/pub/none~{TEMPLATE}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "imagex.image_not_found"
    assert on_domain(live_server, "http://img.example.com/pub/none").status_code == 404
    no_template = on_domain(live_server, f"http://img.example.com/{name}~tplv-none")
    assert no_template.status_code == 404 and no_template.json()["error"]["code"] == "template.unknown"
    # 3. no way out of the service's namespace (the other service's image exists)
    other = bare.call({**body, "Domain": "", "Template": "", "Outputs": ["secret"]})["Result"]
    assert other["StoreUris"] == [f"tos-cn-i-{bare.service_id}/secret"]
    for path in (
        f"/%2e%2e/{bare.service_id}/secret",
        f"/a/%2e%2e/%2e%2e/{bare.service_id}/secret",
        f"/..%2F{bare.service_id}%2Fsecret",
        f"/x//%2e%2e/{bare.service_id}/secret",
    ):
        escaped = httpx.get(f"{live_server.base_url}{path}", headers={"Host": "img.example.com"}, timeout=10)
        assert escaped.status_code == 400 and escaped.json()["error"]["param"] == "name", (path, escaped.text)
    # 4. other hosts, signed calls and the studio page are not taken by the domain route
    assert on_domain(live_server, f"http://other.example.com/{name}").status_code == 404
    assert on_domain(live_server, f"http://{live_server.base_url[7:]}/{name}").status_code == 404
    assert on_domain(live_server, f"http://img.example.com/_imagex/{name}").status_code == 404
    bearer = on_domain(live_server, f"http://img.example.com/{name}", Authorization="Bearer nope")
    assert bearer.status_code == 404 and "imagex" not in bearer.text
    assert on_domain(live_server, "http://img.example.com/").status_code == 200  # the studio page


def test_an_unsigned_call_or_a_bad_secret_is_refused(live_server: LiveServer, tenant: Tenant) -> None:
    unsigned = httpx.post(
        f"{live_server.base_url}/?Action=GetCVImageGenerateResult&Version=2023-05-01&ServiceId=x",
        json={},
        timeout=10,
    )
    meta = unsigned.json()["ResponseMetadata"]
    assert unsigned.status_code == 401 and meta["Service"] == "ImageX"
    assert (meta["Error"]["Code"], meta["Error"]["CodeN"]) == ("MissingSignature", 100005)  # common list
    wrong = imagex(live_server, replace(tenant.creds, secret_access_key="nope"))
    _, error = refused(lambda: wrong.get_cv_image_generate_result({"ServiceId": tenant.service_id}, {}))
    assert (error["Code"], error["CodeN"]) == ("SignatureDoesNotMatch", 100010)


def test_admin_api_and_cli_errors(live_server: LiveServer, tenant: Tenant) -> None:
    admin = live_server.accounts.create(f"admin-{uuid.uuid4().hex[:8]}", is_admin=True)
    admin_key = live_server.keys.issue(admin).api_key
    owner = live_server.accounts.create(f"owner-{uuid.uuid4().hex[:8]}")
    url = f"{live_server.base_url}/v1/imagex/services"
    made = httpx.post(url, json={"account": owner.name}, headers={"Authorization": f"Bearer {admin_key}"})
    assert made.status_code == 201 and made.json()["account_id"] == owner.id
    assert len(made.json()["service_id"]) == 10
    user_key = live_server.keys.issue(owner).api_key
    denied = httpx.post(url, json={"account_id": owner.id}, headers={"Authorization": f"Bearer {user_key}"})
    assert denied.status_code == 403
    missing = add_service(live_server, "no-such-account")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    # a domain serves one service: binding the tenant's again is refused (by the CLI and the admin API)
    taken = add_service(live_server, owner.name, "--domain", "Img.Example.com")
    assert taken.returncode == 1 and "imagex.domain_taken" in taken.stderr, taken.stderr
    again = httpx.post(
        url,
        json={"account": owner.name, "domain": "img.example.com"},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "imagex.domain_taken"


def test_content_checks_answer_risk_codes(tenant: Tenant, photos: Photos) -> None:
    from tests.fronts.conftest import png_bytes
    from tests.safety.drawings import exposed_torso

    base = {
        "Outputs": [f"risk/{uuid.uuid4().hex[:8]}"],
        "ModelAction": "CVProcess",
        "ModelVersion": "2022-08-31",
    }
    prompt = {
        **base,
        "ReqJson": {"req_key": "i2i_xl_sft", "prompt": "p.o.r.n", "image_urls": [photos.url("face")]},
    }
    _, blocked = refused(lambda: tenant.call(prompt))
    assert blocked["Code"] == "RiskNotPass" and blocked["CodeN"] == 50412, blocked
    unsafe = base64.b64encode(png_bytes(exposed_torso())).decode()
    image = {
        **base,
        "ReqJson": {"req_key": "i2i_xl_sft", "prompt": "portrait", "binary_data_base64": [unsafe]},
    }
    _, refused_image = refused(lambda: tenant.call(image))
    assert refused_image["Code"] == "RiskNotPass" and refused_image["CodeN"] == 50411, refused_image
    assert refused_image["Message"].startswith("Pre Img Risk Not Pass: "), refused_image


def test_a_refused_output_is_risk_not_pass_50511_and_not_stored(
    live_server: LiveServer, photos: Photos, astronaut: Any
) -> None:
    from tests.fronts.unsafe import HEIGHT, INPUT_CHECK_OFF, WIDTH, face_over_torso

    tenant = Tenant(live_server, options=INPUT_CHECK_OFF)  # the input check off: the output check refuses
    photo = base64.b64encode(face_over_torso(astronaut)).decode()
    req_json = {
        "req_key": "i2i_portrait_photo",
        "binary_data_base64": [photo],
        "width": WIDTH,
        "height": HEIGHT,
    }
    body = {"Outputs": ["risk/out"], "ReqJson": req_json}
    _, error = refused(lambda: tenant.call(body))
    assert (error["Code"], error["CodeN"]) == ("RiskNotPass", 50511), error
    assert error["Message"].startswith("Post Img Risk Not Pass: "), error
    # nothing was stored under the name: a safe photo takes it without Overwrite
    safe = {**body, "ReqJson": {**req_json, "binary_data_base64": [face_base64(photos)], "height": 512}}
    assert tenant.call(safe)["Result"]["StoreUris"] == [f"tos-cn-i-{tenant.service_id}/risk/out"]


def test_seed_response_shape_and_input_formats(tenant: Tenant, photos: Photos) -> None:
    face = Image.open(io.BytesIO(httpx.get(photos.url("face"), timeout=10).content))
    tiff = io.BytesIO()
    face.save(tiff, format="TIFF")
    body: dict[str, Any] = {
        "Outputs": [f"seed/{uuid.uuid4().hex[:6]}"],
        "ModelAction": "Img2ImgXLSft",
        "ModelVersion": "2022-08-31",
        "ReqJson": {"prompt": "portrait", "binary_data_base64": [face_base64(photos)], "return_url": True},
    }
    # 1. RespJson as the seed shows it: the model's body with empty image lists (the image is stored)
    result = tenant.call(body)["Result"]
    data = result["RespJson"]["data"]
    assert data["binary_data_base64"] == [] and data["image_urls"] == [] and data["req_key"] == "i2i_xl_sft"
    assert len(result["ImageUrls"]) == len(result["StoreUris"]) == 1
    # 2. the seed's input formats (jpeg, png, webp, bmp, heic, apng, ico, avif): TIFF is refused
    body["ReqJson"]["binary_data_base64"] = [base64.b64encode(tiff.getvalue()).decode()]
    body["Outputs"] = [f"seed/{uuid.uuid4().hex[:6]}"]
    _, error = refused(lambda: tenant.call(body))
    assert error["Code"] == "InvalidParameter", error  # naming the field the image came in
    assert error["Message"].startswith("Parameter 'binary_data_base64[0]' is a TIFF image"), error
    assert "takes JPEG, PNG, WebP, BMP, HEIC, AVIF, APNG or ICO" in error["Message"]
