"""Codec speed: median CPU ms to decode a phone-sized photo (4032x3024) per input format, with and without
a Display P3 profile, and to encode a wanx-sized result (2304x1536) per output format, on one thread.
Writes bench/reports/codecs_speed.md.  Usage: python bench/codecs_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from common import REPORTS, machine, single_thread, table
from PIL import Image


def _median_ms(work: Callable[[], object], repeats: int) -> float:
    """Median CPU ms (all threads of this process): steadier than wall time on a shared machine."""
    work()  # warm caches (profile transforms, codec set-up)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _photo(width: int, height: int) -> np.ndarray:
    from restyle.samples import load_sample

    return cv2.resize(load_sample("astronaut"), (width, height), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    single_thread()
    import pillow_heif

    from restyle.domain import OutputFormat
    from restyle.imaging.codecs import decode_image, encode_image

    pillow_heif.register_heif_opener()
    photo = Image.fromarray(_photo(4032, 3024))
    decode_rows = []
    for fmt, kw in [
        ("JPEG", {"quality": 90}),
        ("PNG", {"compress_level": 1}),
        ("WEBP", {"quality": 90}),
        ("HEIF", {"quality": 80}),
        ("AVIF", {"quality": 80}),
    ]:
        buffer = io.BytesIO()
        photo.save(buffer, format=fmt, **kw)
        data = buffer.getvalue()
        plain = _median_ms(lambda data=data: decode_image(data), args.repeats)
        tagged_buffer = io.BytesIO()
        photo.save(tagged_buffer, format=fmt, icc_profile=_display_p3(), **kw)
        tagged = tagged_buffer.getvalue()
        with_profile = _median_ms(lambda data=tagged: decode_image(data), args.repeats)
        decode_rows.append([fmt, f"{len(data) / 1e6:.2f}", plain, with_profile, with_profile - plain])
    result = _photo(2304, 1536)
    encode_rows = []
    for out in OutputFormat:
        encoded = encode_image(result, out, 92)
        same = encoded == encode_image(result, out, 92)
        ms = _median_ms(lambda out=out: encode_image(result, out, 92), args.repeats)
        encode_rows.append([out.value, f"{len(encoded) / 1e6:.2f}", ms, "yes" if same else "NO"])
    report = "\n\n".join(
        [
            "# Codec speed",
            f"Machine: {machine()}. CPU time (not wall time: the machine is shared), median of "
            f"{args.repeats} runs after one warm-up.",
            "## Decoding a 4032x3024 photo (decode_image: checks, decode, orientation, sRGB)",
            table(["format", "MB", "ms", "ms with a Display P3 profile", "profile cost ms"], decode_rows),
            "## Encoding a 2304x1536 result at quality 92 (PNG at zlib level 1)",
            table(["format", "MB", "ms", "same bytes twice"], encode_rows),
        ]
    )
    (REPORTS / "codecs_speed.md").write_text(report + "\n")
    print(report)


def _display_p3() -> bytes:
    """A Display P3 matrix profile (D50 colorants as in Apple's, gamma 2.2 curves)."""
    import struct

    colorants = np.array([[0.5151, 0.2919, 0.1572], [0.2412, 0.6922, 0.0666], [-0.0011, 0.0419, 0.7841]])

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    white = (0.9642, 1.0, 0.8249)
    text = b"Display P3 (bench)\0"
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 79),
        (b"wtpt", b"XYZ \0\0\0\0" + b"".join(s15(v) for v in white)),
    ]
    tags += [(n, b"XYZ \0\0\0\0" + b"".join(s15(v) for v in colorants[:, i])) for i, n in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))]
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags += [(b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table_bytes, body = b"", b""
    for name, data in tags:
        table_bytes += name + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    header = (
        struct.pack(">I", offset + len(body)) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 28 + b"".join(s15(v) for v in white) + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table_bytes + body


if __name__ == "__main__":
    main()
