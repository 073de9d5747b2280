"""The TC260 metadata label: written into PNG, JPEG and WebP by byte insertion and read back."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from restyle.config import Settings
from restyle.domain import OutputFormat
from restyle.errors import LabelContainerError
from restyle.imaging.codecs import encode_image
from restyle.labels import LabelSpec, apply_file_labels
from restyle.labels.containers import extract_xmp, insert_xmp
from restyle.labels.implicit import FIELDS, TC260_NS, aigc_fields, build_xmp, parse_xmp
from restyle.labels.spec import Producer

PRODUCER = Producer(content_producer="001191110108MA01EXAMPLE", reserved_code1="签名-1", reserved_code2="r2")


def decoded(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The pixels as Pillow and as OpenCV read them (both RGB)."""
    with Image.open(io.BytesIO(data)) as image:
        pillow = np.asarray(image.convert("RGB"))
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    return pillow, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("fmt", [OutputFormat.PNG, OutputFormat.JPEG, OutputFormat.WEBP])
def test_label_round_trips_and_pixels_are_untouched(fmt: OutputFormat, portrait: np.ndarray) -> None:
    plain = encode_image(portrait, fmt)
    labelled = apply_file_labels(plain, fmt, LabelSpec(producer=PRODUCER, invisible=False), "task-7f3a")
    packet = extract_xmp(labelled)
    assert packet is not None
    fields = parse_xmp(packet)
    assert fields == aigc_fields("task-7f3a", PRODUCER)
    assert fields is not None and fields["Label"] == "1" and fields["ProduceID"] == "task-7f3a"
    assert list(fields) == list(FIELDS)
    # no re-encoding: both decoders see exactly the pixels of the unlabelled file
    for before, after in zip(decoded(plain), decoded(labelled), strict=True):
        assert np.array_equal(before, after)
    with Image.open(io.BytesIO(labelled)) as image:  # Pillow finds the XMP where the formats keep it
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    assert xmp is not None and TC260_NS.encode() in (xmp if isinstance(xmp, bytes) else xmp.encode())


@pytest.mark.parametrize("fmt", [OutputFormat.PNG, OutputFormat.JPEG, OutputFormat.WEBP])
def test_second_label_replaces_the_first(fmt: OutputFormat, astronaut_small: np.ndarray) -> None:
    once = insert_xmp(encode_image(astronaut_small, fmt), build_xmp(aigc_fields("a", PRODUCER)))
    twice = insert_xmp(once, build_xmp(aigc_fields("b", PRODUCER)))
    assert twice.count(TC260_NS.encode()) == 1
    assert (parse_xmp(extract_xmp(twice) or b"") or {})["ProduceID"] == "b"


def test_jpeg_label_goes_after_app0_and_exif(astronaut_small: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x010F] = "restyle-test-camera"
    buffer = io.BytesIO()
    Image.fromarray(astronaut_small).save(buffer, format="JPEG", exif=exif.tobytes())
    labelled = insert_xmp(buffer.getvalue(), build_xmp(aigc_fields("t", PRODUCER)))
    markers = []
    pos = 2
    while labelled[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", labelled[pos + 2 : pos + 4])
        markers.append((labelled[pos + 1], labelled[pos + 4 : pos + 10]))
        pos += 2 + length
    assert markers[0][0] == 0xE0 and markers[1] == (0xE1, b"Exif\x00\x00")
    assert markers[2][0] == 0xE1 and markers[2][1] == b"http:/"
    with Image.open(io.BytesIO(labelled)) as image:
        assert image.getexif()[0x010F] == "restyle-test-camera"


def test_simple_webp_becomes_extended_with_the_right_sizes_and_flags(astronaut_small: np.ndarray) -> None:
    rgba = np.dstack([astronaut_small, np.full(astronaut_small.shape[:2], 200, np.uint8)])
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="WEBP", lossless=True)
    plain = buffer.getvalue()
    assert plain[12:16] == b"VP8L"
    labelled = insert_xmp(plain, build_xmp(aigc_fields("t", PRODUCER)))
    assert labelled[12:16] == b"VP8X"
    assert struct.unpack("<I", labelled[4:8])[0] == len(labelled) - 8
    flags = labelled[20]
    assert flags & 0x04 and flags & 0x10  # XMP and alpha
    width = int.from_bytes(labelled[24:27], "little") + 1
    height = int.from_bytes(labelled[27:30], "little") + 1
    assert (width, height) == (astronaut_small.shape[1], astronaut_small.shape[0])
    with Image.open(io.BytesIO(labelled)) as image:
        assert image.mode == "RGBA" and np.array_equal(np.asarray(image), rgba)


def test_other_formats_and_broken_files() -> None:
    with pytest.raises(LabelContainerError):
        insert_xmp(b"GIF89a" + b"\x00" * 20, b"<x/>")
    with pytest.raises(LabelContainerError):
        insert_xmp(b"\xff\xd8\xff\xe0\x00\x10JFIF", b"<x/>")  # cut inside its first segment
    assert extract_xmp(b"\x89PNG\r\n\x1a\n\x00\x00") is None


def test_parser_refuses_entities_and_reads_the_attribute_form() -> None:
    attack = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    assert parse_xmp(attack) is None
    attribute_form = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}" TC260:AIGC=\'{{"Label":"1","ProduceID":"p"}}\'/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    assert parse_xmp(attribute_form.encode()) == {"Label": "1", "ProduceID": "p"}
    assert parse_xmp(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>") is None


def test_producer_values_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_LABELS__CONTENT_PRODUCER", "producer-code")
    monkeypatch.setenv("RESTYLE_LABELS__CONTENT_PROPAGATOR", "propagator-code")
    spec = LabelSpec.from_settings(Settings.load().labels, {"add_logo": True, "position": 2})
    fields = aigc_fields("task-9", spec.producer)
    assert fields["ContentProducer"] == "producer-code" and fields["ContentPropagator"] == "propagator-code"
    assert fields["PropagateID"] == "task-9"  # same operator propagates: the task id
    assert spec.visible.position == 2 and spec.metadata and spec.invisible and not spec.c2pa
