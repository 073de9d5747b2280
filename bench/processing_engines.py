"""The in-process engines of the processing bench: restyle's action pipeline, plain Pillow, Pillow tuned
(the prototype of the speed-ups suggested for restyle) and pyvips, each doing every bench operation on
JPEG bytes and returning encoded bytes. Operations are keyed by their OSS/TOS action string.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image, features


class _Operation(Protocol):
    action: str


@dataclass(frozen=True)
class Engine:
    """A named way to run an operation: call(operation, input label, JPEG bytes, width, height) -> bytes."""

    name: str
    call: Callable[[Any, str, bytes, int, int], bytes]
    external_cpu: Callable[[], float] | None = None  # CPU seconds of a server process doing the work
    reset: Callable[[Any, str], None] | None = None  # run before each call, untimed (clears a cache)


@dataclass(frozen=True)
class Quality:
    """The output qualities every engine uses (restyle's, read from its output when it is installed)."""

    jpeg: int
    webp: int

    def __str__(self) -> str:
        return f"JPEG {self.jpeg} (4:2:0, baseline), WebP {self.webp} (libwebp method {WEBP_METHOD})"


LANCZOS = Image.Resampling.LANCZOS
WEBP_METHOD = 2  # restyle's libwebp effort (Pillow's default is 4, about twice as slow)


def oss_crop_box(width: int, height: int, crop_w: int, crop_h: int) -> tuple[int, int, int, int]:
    """``crop,w_..,h_..,g_center`` as OSS/TOS (and restyle) define it: the origin is the top-left corner
    of the centre cell of a 3 x 3 grid, and the rectangle stops at the image's edge."""
    left, top = width // 3, height // 3
    return left, top, min(width, left + crop_w), min(height, top + crop_h)


def chain_geometry(width: int, height: int) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """The chain's resize to 1024 wide and its 800x800 g_center crop box on the resized image."""
    size = (1024, round(height * 1024 / width))
    return size, oss_crop_box(*size, 800, 800)


ResizeFn = Callable[[Image.Image, tuple[int, int]], Image.Image]


def _pillow_ops(q: Quality, tuned: bool) -> dict[str, Callable[[bytes, int, int], bytes]]:
    def load(data: bytes, target: tuple[int, int] | None = None) -> Image.Image:
        image = Image.open(io.BytesIO(data))
        if tuned and target is not None:
            image.draft(
                "RGB", target
            )  # libjpeg DCT scaling: decode at 1/2, 1/4 or 1/8 when that is still >= target
        image.load()
        return image

    def resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
        return image.resize(size, LANCZOS, reducing_gap=3.0 if tuned else None)

    def jpeg(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=q.jpeg)
        return out.getvalue()

    def width(data: bytes, w: int, h: int, target: int) -> bytes:
        size = (target, round(h * target / w))
        return jpeg(resize(load(data, size), size))

    def crop(data: bytes, w: int, h: int) -> bytes:
        return jpeg(load(data).crop(oss_crop_box(w, h, 512, 512)))

    def webp(data: bytes, w: int, h: int) -> bytes:
        out = io.BytesIO()
        load(data).save(out, format="WEBP", quality=q.webp, method=WEBP_METHOD)
        return out.getvalue()

    def chain(data: bytes, w: int, h: int) -> bytes:
        size, box = chain_geometry(w, h)
        image = resize(load(data, size), size)
        return jpeg(image.crop(box).transpose(Image.Transpose.ROTATE_270))

    return {
        "image/resize,w_256": lambda d, w, h: width(d, w, h, 256),
        "image/resize,w_1024": lambda d, w, h: width(d, w, h, 1024),
        "image/crop,w_512,h_512,g_center": crop,
        "image/rotate,90": lambda d, w, h: jpeg(load(d).transpose(Image.Transpose.ROTATE_270)),
        "image/format,webp": webp,
        "image/format,jpg": lambda d, w, h: jpeg(load(d)),
        "image/resize,w_1024/crop,w_800,h_800,g_center/rotate,90/format,jpg": chain,
    }


def _vips_ops(q: Quality) -> dict[str, Callable[[bytes, int, int], bytes]]:
    import pyvips

    pyvips.cache_set_max(0)  # every call really processes

    def jpeg(image: Any) -> bytes:
        return bytes(image.jpegsave_buffer(Q=q.jpeg, subsample_mode="on"))

    def load(data: bytes, sequential: bool = True) -> Any:
        return pyvips.Image.new_from_buffer(data, "", access="sequential" if sequential else "random")

    def crop(data: bytes, w: int, h: int) -> bytes:
        left, top, right, bottom = oss_crop_box(w, h, 512, 512)
        return jpeg(load(data).crop(left, top, right - left, bottom - top))

    def chain(data: bytes, w: int, h: int) -> bytes:
        image = pyvips.Image.thumbnail_buffer(data, 1024, height=10_000_000, size="down").copy_memory()
        _, (left, top, right, bottom) = chain_geometry(w, h)
        return jpeg(image.crop(left, top, right - left, bottom - top).rot90())

    return {
        "image/resize,w_256": lambda d, w, h: jpeg(pyvips.Image.thumbnail_buffer(d, 256, height=10_000_000)),
        "image/resize,w_1024": lambda d, w, h: jpeg(
            pyvips.Image.thumbnail_buffer(d, 1024, height=10_000_000)
        ),
        "image/crop,w_512,h_512,g_center": crop,
        "image/rotate,90": lambda d, w, h: jpeg(load(d, sequential=False).rot90()),
        "image/format,webp": lambda d, w, h: bytes(load(d).webpsave_buffer(Q=q.webp, effort=WEBP_METHOD)),
        "image/format,jpg": lambda d, w, h: jpeg(load(d)),
        "image/resize,w_1024/crop,w_800,h_800,g_center/rotate,90/format,jpg": chain,
    }


def _by_action(name: str, ops: dict[str, Callable[[bytes, int, int], bytes]]) -> Engine:
    return Engine(name, lambda operation, label, data, w, h: ops[operation.action](data, w, h))


def _jpeg_quality_of(data: bytes) -> int | None:
    """The libjpeg quality whose standard tables Pillow would write, matched against ``data``'s tables."""
    with Image.open(io.BytesIO(data)) as image:
        tables = getattr(image, "quantization", None)
    probe = Image.new("RGB", (16, 16))
    for quality in range(100, 0, -1):
        out = io.BytesIO()
        probe.save(out, format="JPEG", quality=quality)
        with Image.open(out) as candidate:
            if getattr(candidate, "quantization", None) == tables:
                return quality
    return None


def available_engines() -> tuple[list[Engine], Quality, list[str]]:
    """restyle (when its actions package imports), Pillow, Pillow tuned, pyvips (when installed), notes."""
    notes: list[str] = []
    engines: list[Engine] = []
    quality = Quality(90, 90)
    try:
        from restyle.imaging.actions import process_image
    except ImportError as exc:
        notes.append(f"restyle's pipeline is not in this tree yet ({exc}); its column is missing.")
    else:
        probe = Image.new("RGB", (64, 48), (120, 80, 60))
        buffer = io.BytesIO()
        probe.save(buffer, format="JPEG", quality=95)
        measured = _jpeg_quality_of(process_image(buffer.getvalue(), "image/format,jpg").data)
        if measured is not None:
            quality = Quality(measured, measured)
        else:
            notes.append("restyle's JPEG tables are not libjpeg's standard ones; quality 90 used elsewhere.")
        engines.append(
            Engine("restyle", lambda operation, label, data, w, h: process_image(data, operation.action).data)
        )
    engines.append(_by_action("pillow", _pillow_ops(quality, tuned=False)))
    engines.append(_by_action("pillow-tuned", _pillow_ops(quality, tuned=True)))
    try:
        engines.append(_by_action("pyvips", _vips_ops(quality)))
    except (ImportError, OSError) as exc:
        notes.append(f"pyvips is not installed ({exc}); pip install pyvips pyvips-binary to add it.")
    return engines, quality, notes


def library_versions() -> list[str]:
    import PIL

    found = [
        f"Pillow {PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, "
        f"libwebp {features.version('webp')})"
    ]
    try:
        import pyvips

        found.append(
            f"pyvips {pyvips.__version__} (libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)})"
        )
    except (ImportError, OSError):
        pass
    return found
