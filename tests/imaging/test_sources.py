"""Input images in every shape: bytes, uploads, base64 (data: URIs, whitespace, URL-safe, padding),
http(s) URLs and ``uri://binary_data?index=N`` references into a list."""

from __future__ import annotations

import asyncio
import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restyle.domain import ImageSource
from restyle.errors import InvalidParameter, ParameterOutOfRange, UrlInvalid
from restyle.imaging import sources
from restyle.imaging.sources import (
    decode_base64,
    source_from_bytes,
    source_from_json,
    source_from_reference,
    source_from_text,
    source_from_upload,
)

PAYLOAD = b"\x89PNG\r\n\x1a\n\xfb\xff\xfe\x00 restyle"
STANDARD = base64.b64encode(PAYLOAD).decode()  # has '+' or '/' and padding
URL_SAFE = base64.urlsafe_b64encode(PAYLOAD).decode()


class Part:
    """A multipart file part as Starlette hands it over (only ``read`` matters)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, size: int = -1) -> bytes:
        return self.data


def test_bytes_and_uploads_are_data_sources() -> None:
    assert source_from_bytes(PAYLOAD) == ImageSource(data=PAYLOAD)
    assert asyncio.run(source_from_upload(Part(PAYLOAD))) == ImageSource(data=PAYLOAD)


@pytest.mark.parametrize(
    "text",
    [
        STANDARD,
        URL_SAFE,
        STANDARD.rstrip("="),
        URL_SAFE.rstrip("="),
        f"data:image/png;base64,{STANDARD}",
        f"DATA:image/png;charset=binary;BASE64,{URL_SAFE}",
        f"  {STANDARD[:8]}\n{STANDARD[8:16]}\r\n\t{STANDARD[16:]}\n ",
        "\n".join(STANDARD[i : i + 4] for i in range(0, len(STANDARD), 4)),
    ],
)
def test_base64_in_every_accepted_form_decodes(text: str) -> None:
    assert decode_base64(text, "image") == PAYLOAD
    assert source_from_text(text, "image") == ImageSource(data=PAYLOAD)
    assert source_from_json({"base64": text}, "image") == ImageSource(data=PAYLOAD)


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("aGV*bG8=", 4, "'*', which is outside the base64 alphabet"),
        ("aGVsbG8gd29ybGQ.", 16, "'.', which is outside"),
        ("aGVsbG8=x", 8, "'=' padding, but base64 text follows it"),
        ("aGVs=bG8=", 5, "'=' padding, but base64 text follows"),
        ("aGVsbG8===", 10, "third '=' padding character"),
        ("aGVsb", 5, "lone last character"),
        ("aGVsb \n", 5, "lone last character"),
        ("aGVsbA=", 7, "does not fill the last group of four"),
        ("aGVsbG8=\n=", 8, "does not fill the last group of four"),
        ("data:image/png;base64,aGV$", 26, "'$', which is outside"),
        ("héllo", 2, "'é', which is outside"),
    ],
)
def test_bad_base64_names_the_parameter_and_the_first_bad_character(text: str, position: int, problem: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        decode_base64(text, "style_image")
    error = caught.value
    assert error.code == "param.invalid" and error.status == 400 and error.param == "style_image"
    assert error.message.startswith("Parameter 'style_image' is not valid base64:")
    assert f"character {position} of {len(text)}" in error.message and problem in error.message, error.message
    assert error.details["position"] == position


def test_a_data_uri_must_be_base64() -> None:
    with pytest.raises(InvalidParameter, match="without ';base64'"):
        decode_base64("data:image/png,%89PNG", "image")


@given(
    data=st.binary(max_size=300),
    url_safe=st.booleans(),
    padded=st.booleans(),
    line=st.integers(min_value=1, max_value=80),
    breaks=st.sampled_from(["\n", "\r\n", " ", "\t"]),
)
def test_any_bytes_survive_any_accepted_encoding(
    data: bytes, url_safe: bool, padded: bool, line: int, breaks: str
) -> None:
    text = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(data).decode()
    text = text if padded else text.rstrip("=")
    wrapped = breaks.join(text[i : i + line] for i in range(0, len(text), line))
    assert decode_base64(wrapped, "image") == data


def test_urls_are_checked_for_syntax_only() -> None:
    assert source_from_text(" https://photos.example/a.png ", "image") == ImageSource(url="https://photos.example/a.png")
    assert source_from_json({"url": "http://photos.example:8080/a.png"}, "image") == ImageSource(
        url="http://photos.example:8080/a.png"
    )
    for url, text in [
        ("ftp://photos.example/a.png", "http:// or https://"),
        ("http://me:pw@photos.example/a.png", "user name or password"),
        ("https:///a.png", "without a host"),
    ]:
        with pytest.raises(UrlInvalid, match=text) as caught:
            source_from_text(url, "image")
        assert caught.value.param == "image"
        with pytest.raises(UrlInvalid):
            source_from_json({"url": url}, "image")


def test_json_shapes() -> None:
    assert source_from_json(None, "image") is None
    assert source_from_json(STANDARD, "image") == ImageSource(data=PAYLOAD)
    for bad in ({"bytes": STANDARD}, {"base64": STANDARD, "url": "http://x/"}, 42, ["a"], {"url": 5}):
        with pytest.raises(InvalidParameter, match='must be {"base64": "..."} or {"url": "..."}'):
            source_from_json(bad, "image")


IMAGES = [STANDARD, f"data:image/png;base64,{URL_SAFE}", "https://photos.example/style.png"]


def test_references_pick_an_image_of_the_list() -> None:
    assert source_from_reference("uri://binary_data?index=0", IMAGES, param="face_image") == ImageSource(data=PAYLOAD)
    assert source_from_text("uri://binary_data?index=1", "style_image", IMAGES) == ImageSource(data=PAYLOAD)
    assert source_from_text("URI://binary_data?index=2", "style_image", IMAGES) == ImageSource(
        url="https://photos.example/style.png"
    )


@pytest.mark.parametrize("index", ["3", "10", "99999999999999999999"])
def test_a_reference_out_of_range_names_the_parameter_and_the_list_length(index: str) -> None:
    with pytest.raises(ParameterOutOfRange) as caught:
        source_from_reference(f"uri://binary_data?index={index}", IMAGES, param="face_image")
    message = caught.value.message
    assert caught.value.param == "face_image" and caught.value.status == 400
    assert f"index {index} of binary_data_base64, which has 3 images" in message and "0 to 2" in message


def test_a_reference_into_an_empty_or_missing_list() -> None:
    for images in ([], None):
        with pytest.raises(ParameterOutOfRange, match="which has 0 images") as caught:
            source_from_reference("uri://binary_data?index=0", images, param="face_image")
        assert caught.value.param == "face_image"


@pytest.mark.parametrize(
    "reference",
    [
        "uri://binary_data",
        "uri://binary_data?index=",
        "uri://binary_data?index=-1",
        "uri://binary_data?index=one",
        "uri://binary_data?index=0&index=1x",
        "uri://binary_data?index=0&x=1",
        "uri://binary_data/0",
        "uri://binary_datum?index=0",
        "uri://binary_data?index=٣",
    ],
)
def test_a_malformed_reference_names_the_parameter_and_the_list_length(reference: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        source_from_reference(reference, IMAGES, param="style_image")
    error = caught.value
    assert error.code == "param.invalid" and error.param == "style_image"
    assert "uri://binary_data?index=N" in error.message and "binary_data_base64 (3 images)" in error.message


def test_list_items_are_checked_as_the_item_they_are() -> None:
    images = ["not*base64", "uri://binary_data?index=0", "ftp://x/y.png"]
    with pytest.raises(InvalidParameter, match=r"Parameter 'binary_data_base64\[0\]' is not valid base64"):
        source_from_reference("uri://binary_data?index=0", images, param="face_image")
    with pytest.raises(InvalidParameter, match=r"binary_data_base64\[1\] is itself a reference"):
        source_from_reference("uri://binary_data?index=1", images, param="face_image")
    with pytest.raises(UrlInvalid, match=r"Parameter 'image_urls\[2\]'"):
        source_from_reference("uri://binary_data?index=2", images, param="face_image", list_param="image_urls")


@given(text=st.text(alphabet="AQgw+/-_=aZ09 \n\t", max_size=40))
def test_the_fast_path_and_the_diagnosed_path_agree_on_any_text(text: str) -> None:
    # decode_base64 tries the C decoder first and diagnoses only what it refuses: the two must
    # accept exactly the same texts, with the same bytes
    try:
        expected: bytes | None = sources._decode_diagnosed(text, 0, "image")
    except InvalidParameter:
        expected = None
    try:
        got: bytes | None = decode_base64(text, "image")
    except InvalidParameter:
        got = None
    assert got == expected
