"""The TOS bucket-level ``aigc/image_to_image`` (seed [003]) through the real ``tos`` SDK's ``_req``
(protocols section 3) in proxy mode against a live ``restyle serve``: input and output processing,
the result saved into a bucket, ForbiddenOverwrite, and the TOS errors."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import tos
from PIL import Image
from tos.exceptions import TosServerError

from tests.fronts.conftest import LiveServer, Photos
from tests.fronts.test_tos import bucket_name, client_for

SOURCE = "in/face.png"


def new_client(server: LiveServer) -> tos.TosClientV2:
    """A client of a new account whose submit rate does not slow the test down."""
    account = server.accounts.create(f"aigc-{uuid.uuid4().hex[:8]}", qps=100)
    credentials = server.keys.issue(account)
    return client_for(server, credentials.access_key_id, credentials.secret_access_key)


@pytest.fixture(scope="module")
def alice(live_server: LiveServer) -> tos.TosClientV2:
    return new_client(live_server)


@pytest.fixture(scope="module")
def buckets(alice: tos.TosClientV2, astronaut_png: bytes) -> Iterator[tuple[str, str]]:
    """A source bucket holding the photo and an output bucket, both Alice's."""
    names = (bucket_name(), bucket_name())
    for name in names:
        alice.create_bucket(name)
    alice.put_object(names[0], SOURCE, content=astronaut_png)
    yield names
    for name in names:
        for listed in alice.list_objects_type2(name).contents:
            alice.delete_object(name, listed.key)
        alice.delete_bucket(name)


def aigc(client: tos.TosClientV2, bucket: str, body: dict[str, Any]) -> dict[str, Any]:
    """The seed's request as the protocols page sends it; the JSON answer."""
    response = client._req(
        bucket=bucket,
        method="GET",
        params={"x-tos-process": "aigc/image_to_image"},
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        func="image_to_image",
    )
    assert response.status == 200 and response.request_id
    answer: dict[str, Any] = json.loads(response.read())
    return answer


def request(out_bucket: str, key: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "TaskType": "image_to_image",
        "InputDataSource": {"Prompt": "a portrait in ink", "ImageUri": SOURCE},
        "InputProcessing": {"ProcessStyle": "", "ProcessActions": "image/resize,w_288"},
        "OutputProcessing": {"Bucket": out_bucket, "Object": key, "ForbiddenOverwrite": False},
        "ModelConfig": {
            "ModelAction": "CVProcess",
            "ModelVersion": "2022-08-31",
            "ReqJson": {"req_key": "i2i_xl_sft"},
        },
    }
    for section, fields in changes.items():
        body[section] = {**body.get(section, {}), **fields}
    return body


def stored(client: tos.TosClientV2, bucket: str, key: str) -> Image.Image:
    image = Image.open(io.BytesIO(client.get_object(bucket, key).read()))
    image.load()
    return image


def refused(call: object) -> TosServerError:
    assert callable(call)
    with pytest.raises(TosServerError) as caught:
        call()
    return caught.value


def test_generate_with_input_and_output_processing(alice: tos.TosClientV2, buckets: tuple[str, str]) -> None:
    source, out = buckets
    # 1. input resized to 288 px wide before the model (the model keeps the input's size)
    answer = aigc(alice, source, request(out, "gen/plain.png"))
    resp = answer["resp_json"]
    assert set(answer) == {"resp_json"}
    assert resp["code"] == resp["status"] == 10000 and resp["message"] == "Success"
    assert resp["data"]["algorithm_base_resp"] == {"status_code": 0, "status_message": "Success"}
    assert stored(alice, out, "gen/plain.png").size == (288, 288)
    # 2. output processing: a fixed resize and a format, applied before saving
    post = {"ProcessActions": "image/resize,m_fixed,w_200,h_100/format,jpg", "Object": "gen/post.jpg"}
    aigc(alice, source, request(out, "", OutputProcessing=post))
    image = stored(alice, out, "gen/post.jpg")
    assert (image.size, image.format) == ((200, 100), "JPEG")
    # 3. a named template (ProcessStyle) as input processing
    pre = {"ProcessStyle": "thumbnail", "ProcessActions": ""}  # image/resize,m_fill,w_256,h_256/format,webp
    aigc(alice, source, request(out, "gen/styled.png", InputProcessing=pre))
    assert stored(alice, out, "gen/styled.png").size == (256, 256)


def test_forbidden_overwrite(alice: tos.TosClientV2, buckets: tuple[str, str]) -> None:
    source, out = buckets
    key = f"gen/{uuid.uuid4().hex[:6]}.png"
    aigc(alice, source, request(out, key))
    before = alice.head_object(out, key).etag
    error = refused(
        lambda: aigc(alice, source, request(out, key, OutputProcessing={"ForbiddenOverwrite": True}))
    )
    assert (error.status_code, error.code) == (409, "FileAlreadyExists")
    assert alice.head_object(out, key).etag == before
    aigc(alice, source, request(out, key, OutputProcessing={"ForbiddenOverwrite": "false"}))


def test_http_image_uri_is_fetched(alice: tos.TosClientV2, buckets: tuple[str, str], photos: Photos) -> None:
    source, out = buckets
    body = request(out, "gen/from-url.png", InputProcessing={"ProcessActions": ""})
    body["InputDataSource"]["ImageUri"] = photos.url("face")
    aigc(alice, source, body)
    assert stored(alice, out, "gen/from-url.png").size == (320, 320)


def test_errors(live_server: LiveServer, alice: tos.TosClientV2, buckets: tuple[str, str]) -> None:
    source, out = buckets
    bob = new_client(live_server)
    bobs = bucket_name()
    bob.create_bucket(bobs)
    try:
        cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
            (request(bobs, "x.png"), (403, "AccessDenied")),  # the output bucket is another's
            (request(out, "x.png", InputDataSource={"ImageUri": "no/such.png"}), (404, "NoSuchKey")),
            (request(out, "x.png", InputProcessing={"ProcessStyle": "nope"}), (400, "InvalidArgument")),
            (request(out, "x.png", ModelConfig={"ModelAction": "Nope"}), (400, "InvalidArgument")),
            (request(out, "x.png", InputDataSource={"Prompt": ""}), (400, "InvalidArgument")),
            (request(out, "", OutputProcessing={"Object": ""}), (400, "InvalidArgument")),
        ]
        for body, expected in cases:
            error = refused(lambda body=body: aigc(alice, source, body))  # type: ignore[misc]
            assert (error.status_code, error.code) == expected, (body, error.message)
        error = refused(lambda: aigc(bob, source, request(bobs, "x.png")))  # another's source bucket
        assert (error.status_code, error.code) == (403, "AccessDenied")
    finally:
        bob.delete_bucket(bobs)


def test_seed_fields_required_types_and_response(alice: tos.TosClientV2, buckets: tuple[str, str]) -> None:
    source, out = buckets
    # 1. the seed's response: the model's body under resp_json, no image in it (saved to the bucket)
    text_req_json = request(
        out, "gen/seed.png", ModelConfig={"ReqJson": json.dumps({"req_key": "i2i_xl_sft"})}
    )
    resp = aigc(alice, source, text_req_json)["resp_json"]  # ReqJson as its JSON text (the seed types String)
    assert resp["data"]["binary_data_base64"] is None and resp["data"]["image_urls"] is None
    assert (
        resp["data"]["req_key"] == "i2i_xl_sft" and resp["request_id"] and resp["time_elapsed"].endswith("s")
    )
    # 2. ForbiddenOverwrite as the seed's string "true"
    kept = refused(
        lambda: aigc(
            alice, source, request(out, "gen/seed.png", OutputProcessing={"ForbiddenOverwrite": "true"})
        )
    )
    assert (kept.status_code, kept.code) == (409, "FileAlreadyExists")
    # 3. TaskType and ModelConfig are required by the seed; a model restyle does not serve is named
    no_task_type = request(out, "gen/x.png")
    del no_task_type["TaskType"]
    no_config = request(out, "gen/x.png")
    del no_config["ModelConfig"]
    other_task = {**request(out, "gen/x.png"), "TaskType": "text_to_image"}
    cases = [
        (no_task_type, "TaskType"),
        (other_task, "TaskType"),
        (no_config, "ModelConfig"),
        (request(out, "gen/x.png", ModelConfig={"ReqJson": {"req_key": "high_aes"}}), "req_key"),
        (request(out, "gen/x.png", ModelConfig={"ReqJson": "{not json"}), "ReqJson"),
    ]
    for body, named in cases:
        error = refused(lambda body=body: aigc(alice, source, body))  # type: ignore[misc]
        assert (error.status_code, error.code) == (400, "InvalidArgument"), (body, error.message)
        assert named in error.message, error.message
    assert [o.key for o in alice.list_objects_type2(out, prefix="gen/x").contents] == []


def test_content_checks_answer_risk_not_pass_with_the_models_risk_number(
    live_server: LiveServer, alice: tos.TosClientV2, buckets: tuple[str, str], astronaut: Any
) -> None:
    from tests.fronts.conftest import png_bytes
    from tests.fronts.unsafe import INPUT_CHECK_OFF, face_over_torso
    from tests.safety.drawings import exposed_torso

    source, out = buckets
    alice.put_object(source, "risk/torso.png", content=png_bytes(exposed_torso()))
    # 1. an unsafe input image (50411) and a blocked prompt (50412), before any generation
    unsafe_input = request(out, "risk/a.png", InputDataSource={"ImageUri": "risk/torso.png"})
    blocked_prompt = request(out, "risk/b.png", InputDataSource={"Prompt": "p.o.r.n"})
    for body, number, words in ((unsafe_input, "50411", "Pre Img"), (blocked_prompt, "50412", "Text Risk")):
        error = refused(lambda body=body: aigc(alice, source, body))  # type: ignore[misc]
        assert (error.status_code, error.code, error.ec) == (400, "RiskNotPass", number), error.message
        assert error.message.startswith(words), error.message
    # 2. an output the check refuses (the account's input check off): 50511, nothing saved
    account = live_server.accounts.create(
        f"aigc-post-{uuid.uuid4().hex[:8]}", qps=100, options=INPUT_CHECK_OFF
    )
    creds = live_server.keys.issue(account)
    carol = client_for(live_server, creds.access_key_id, creds.secret_access_key)
    carols = bucket_name()
    carol.create_bucket(carols)
    try:
        carol.put_object(carols, "in/photo.png", content=face_over_torso(astronaut))
        body = request(
            carols,
            "out/result.png",
            InputDataSource={"ImageUri": "in/photo.png", "Prompt": "studio photo"},
            ModelConfig={"ReqJson": {"req_key": "i2i_portrait_photo", "width": 512, "height": 768}},
        )
        body["InputProcessing"] = {}
        error = refused(lambda: aigc(carol, carols, body))
        assert (error.status_code, error.code, error.ec) == (400, "RiskNotPass", "50511"), error.message
        assert error.message.startswith("Post Img Risk Not Pass: "), error.message
        assert [o.key for o in carol.list_objects_type2(carols).contents] == ["in/photo.png"]
    finally:
        for listed in carol.list_objects_type2(carols).contents:
            carol.delete_object(carols, listed.key)
        carol.delete_bucket(carols)
