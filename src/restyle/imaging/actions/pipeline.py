"""Running a chain of actions on an encoded image: decode once, each step in turn, encode once."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from restyle.config import ImageLimits
from restyle.errors import ActionDeadline, ActionError, ActionTooLarge
from restyle.imaging.actions.auto_orient import AutoOrient
from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import ALPHA_FORMATS, Canvas
from restyle.imaging.actions.crop import Crop
from restyle.imaging.actions.decoding import Source, decode_source, open_source, plain_jpeg
from restyle.imaging.actions.encoding import (
    DEFAULT_QUALITY,
    INTERLACED,
    LOSSY,
    MEDIA_TYPES,
    Metadata,
    encode_pixels,
)
from restyle.imaging.actions.format import Format
from restyle.imaging.actions.interlace import Interlace
from restyle.imaging.actions.jpeg_paths import jpeg_to_jpeg
from restyle.imaging.actions.params import PARAM
from restyle.imaging.actions.parser import ActionChain, parse_actions
from restyle.imaging.actions.quality import Quality
from restyle.imaging.actions.resize import Resize, ResizePlan
from restyle.imaging.limits import InputRules, native_rules

DEFAULT_MAX_OUTPUT_PIXELS = 36_000_000
DRAFT_GAP = 1  # a JPEG draft at least the target size (the DCT scaling averages), then an area resize
_SETTINGS_ONLY = frozenset({"format", "quality", "interlace", "auto-orient"})  # steps that leave pixels alone


@dataclass(frozen=True)
class ProcessedImage:
    """The encoded result of a chain (for ``info``: JSON bytes, media type application/json).

    ``route`` says how it was made: "pixels" (decode, steps, encode), "region" (only a leading
    crop's box decoded), "lossless" (one DCT-domain transform) or "planes" (on YCbCr planes)."""

    data: bytes
    media_type: str
    format: str
    width: int
    height: int
    route: str = "pixels"


def process_image(
    data: bytes,
    actions: str | ActionChain,
    *,
    deadline: float | None = None,
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS,
    resolve_object: Callable[[str], bytes] | None = None,
    rules: InputRules | None = None,
    metadata: Metadata | None = None,
) -> ProcessedImage:
    """``data`` processed by ``actions``.

    ``deadline`` is a ``time.monotonic()`` instant, checked between steps (``action.deadline``);
    every step's output size is checked against ``max_output_pixels`` before any pixel is decoded
    (``action.too_large``); ``resolve_object`` reads the objects image watermarks name; ``rules``
    are the input rules (default: the native ones); ``metadata`` is all the output will carry.

    Steps: 1. parse; 2. open the header under the rules; 3. ``info`` answers from the header;
    4. output format and orientation; 5. every step's size against the bound; 6. JPEG to JPEG
    without the pixel round trip where the chain allows it (see jpeg_paths); 7. decode (JPEG draft
    when the chain starts by shrinking, only the region when it starts by cropping); 8. the steps,
    the deadline between them; 9. encode.
    """
    # 1. parse
    chain = parse_actions(actions) if isinstance(actions, str) else actions
    _check_deadline(deadline, "before decoding")
    # 2. header
    rules = rules or _default_rules()
    source = open_source(data, rules)
    # 3. info
    if chain.names() == ["info"]:
        return _info(source)
    # 4. output format, orientation
    target = next((a.family for a in chain.actions if isinstance(a, Format)), default_format(source.family))
    orient = all(a.int_value("value") == 1 for a in chain.actions if isinstance(a, AutoOrient))
    # 5. sizes
    width, height = source.upright_size(orient)
    for action in chain.actions:
        width, height = action.output_size(width, height)
        _check_pixels(action, width, height, max_output_pixels)
    # 6. JPEG to JPEG in the DCT domain or on YCbCr planes
    if target == "jpeg" and not _has_metadata(metadata) and plain_jpeg(data, source):
        settings = _jpeg_settings(chain, source)
        fast = jpeg_to_jpeg(data, source, chain, orient=orient, quality=settings[0], progressive=settings[1])
        if fast is not None:
            return ProcessedImage(fast[0], MEDIA_TYPES[target], target, width, height, route=fast[1])
    # 7. decode
    upright = source.upright_size(orient)
    first_resize, plan = _draft_plan(chain, upright)
    draft = None if plan is None else (plan.scaled[0] * DRAFT_GAP, plan.scaled[1] * DRAFT_GAP)
    first_crop = _leading_crop(chain)
    region = first_crop.box(*upright) if first_crop is not None else None
    decoded = decode_source(
        data,
        source,
        rules,
        orient=orient,
        keep_alpha=target in ALPHA_FORMATS,
        draft=draft,
        allow_bgr=True,
        region=region,
    )
    canvas = Canvas(decoded.pixels, source.family, target, resolve_object=resolve_object, bgr=decoded.bgr)
    if any(a.name == "quality" for a in chain.actions):
        canvas.source_quality = source.jpeg_quality()
    # 8. steps
    for action in chain.actions:
        _check_deadline(deadline, f"before '{action.name}'")
        if isinstance(action, Resize) and action is first_resize and plan is not None:
            canvas = action.render(canvas, plan)
        elif not (action is first_crop and decoded.cropped):
            canvas = action.apply(canvas)
    # 9. encode
    _check_deadline(deadline, "before encoding")
    quality = _quality(
        canvas.target_format, canvas.quality_absolute, canvas.quality_relative, canvas.source_quality
    )
    if canvas.interlace and target not in INTERLACED:
        raise ActionError(
            f"Action 'interlace' applies to jpg, png and gif output, not {target}.",
            param=PARAM,
            details={"action": "interlace"},
        )
    encoded = encode_pixels(
        canvas.pixels, target, quality=quality, interlace=canvas.interlace, metadata=metadata, bgr=canvas.bgr
    )
    route = "region" if decoded.cropped else "pixels"
    return ProcessedImage(encoded, MEDIA_TYPES[target], target, canvas.width, canvas.height, route=route)


@functools.cache
def _default_rules() -> InputRules:
    return native_rules(ImageLimits())


def default_format(family: str) -> str:
    """The output format of a source left in its own format: its own where restyle writes it, else PNG."""
    return family if family in MEDIA_TYPES else "png"


def _draft_plan(chain: ActionChain, size: tuple[int, int]) -> tuple[Resize | None, ResizePlan | None]:
    """The chain's first resize and its plan on the source size, when it is the first pixel step and shrinks."""
    for action in chain.actions:
        if action.name in _SETTINGS_ONLY:
            continue
        if isinstance(action, Resize):
            plan = action.plan(*size)
            if plan.scaled[0] * DRAFT_GAP <= size[0] and plan.scaled[1] * DRAFT_GAP <= size[1]:
                return action, plan
        return None, None
    return None, None


def _leading_crop(chain: ActionChain) -> Crop | None:
    """The chain's first pixel step when it is a crop (the decoder may then decode only its box)."""
    for action in chain.actions:
        if action.name not in _SETTINGS_ONLY:
            return action if isinstance(action, Crop) else None
    return None


def _has_metadata(metadata: Metadata | None) -> bool:
    return metadata is not None and bool(metadata.exif or metadata.xmp)


def _jpeg_settings(chain: ActionChain, source: Source) -> tuple[int, bool]:
    """(quality, progressive) of a JPEG output, read from the chain's settings before any step runs."""
    absolute = relative = None
    progressive = False
    for action in chain.actions:
        if isinstance(action, Quality):
            absolute, relative = action.value("Q"), action.value("q")
        elif isinstance(action, Interlace):
            progressive = bool(action.int_value("value"))
    assert absolute is None or isinstance(absolute, int)
    assert relative is None or isinstance(relative, int)
    source_quality = source.jpeg_quality() if relative is not None else None
    return _quality("jpeg", absolute, relative, source_quality), progressive


def _quality(target: str, absolute: int | None, relative: int | None, source_quality: int | None) -> int:
    if absolute is None and relative is None:
        return DEFAULT_QUALITY
    if target not in LOSSY:
        raise ActionError(
            f"Action 'quality' applies to jpg, webp, avif and heic output, not {target}.",
            param=PARAM,
            details={"action": "quality"},
        )
    if absolute is not None:
        return absolute
    assert relative is not None
    return max(1, round(relative * (source_quality or 100) / 100))


def _check_pixels(action: Action, width: int, height: int, limit: int) -> None:
    if width * height > limit:
        raise ActionTooLarge(
            f"Action '{action.name}' would make a {width}x{height} image; the limit is {limit} pixels.",
            param=PARAM,
            details={"action": action.name},
        )


def _check_deadline(deadline: float | None, where: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise ActionDeadline(
            f"Processing ran past its deadline ({where}); use fewer or cheaper actions.", param=PARAM
        )


def _info(source: Source) -> ProcessedImage:
    width, height = source.upright_size()
    body = {
        "width": width,
        "height": height,
        "format": source.family,
        "size": source.byte_size,
        "orientation": source.orientation,
    }
    data = json.dumps(body).encode()
    return ProcessedImage(data, "application/json", "json", width, height)
