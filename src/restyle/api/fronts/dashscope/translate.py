"""wanx-style-repaint-v1 in restyle's terms: a submit body becomes a :class:`Submission`; a task
row gives back its wanx ``style_index``."""

from __future__ import annotations

from collections.abc import Callable

from restyle.api.fronts.dashscope.schemas import CUSTOM_STYLE, MODEL, STYLE_INDEXES, RepaintRequest
from restyle.domain import ImageSource, StylePreset
from restyle.errors import InvalidParameter, ParameterOutOfRange, RestyleError, UnknownModel
from restyle.tasks.models import TaskRow
from restyle.tasks.service import Submission

FRONT = "dashscope"
ResolveStyle = Callable[[str | int], StylePreset]


def to_submission(
    request: RepaintRequest, idempotency_key: str | None, resolve_style: ResolveStyle
) -> Submission:
    """The task to submit: the photo and the preset of ``style_index`` (or the style image of -1).

    URLs are only carried here; the task service checks their addresses and the worker fetches them.
    """
    # 1. the model
    if request.model != MODEL:
        raise UnknownModel(
            f"Parameter 'model' is '{request.model}'; this endpoint serves only '{MODEL}'.", param="model"
        )
    # 2. the style: a preset by index, or -1 with a style image
    inputs = request.input
    index = inputs.style_index
    if index != CUSTOM_STYLE and index not in STYLE_INDEXES:
        raise ParameterOutOfRange(
            f"Parameter 'input.style_index' is {index}; it must be between {STYLE_INDEXES[0]} and "
            f"{STYLE_INDEXES[-1]}, or {CUSTOM_STYLE} with 'input.style_ref_url'.",
            param="input.style_index",
        )
    if index == CUSTOM_STYLE and not inputs.style_ref_url:
        raise InvalidParameter(
            f"Parameter 'input.style_ref_url' is required when 'input.style_index' is {CUSTOM_STYLE}.",
            param="input.style_ref_url",
        )
    if index != CUSTOM_STYLE and inputs.style_ref_url is not None:
        raise InvalidParameter(
            f"Parameter 'input.style_ref_url' is only used with 'input.style_index' {CUSTOM_STYLE}; "
            f"it was {index}.",
            param="input.style_ref_url",
        )
    fields: dict[str, str] = {}
    style_image = None
    if index == CUSTOM_STYLE:
        style_image = ImageSource(url=inputs.style_ref_url)
    else:
        fields["style"] = _preset(resolve_style, index).name
    # 3. the task, under this front's input and output rules
    return Submission(
        fields=fields,
        image=ImageSource(url=inputs.image_url),
        style_image=style_image,
        idempotency_key=idempotency_key,
        front=FRONT,
    )


def _preset(resolve_style: ResolveStyle, index: int) -> StylePreset:
    try:
        return resolve_style(index)
    except RestyleError:  # the catalogue lacks this number: say it in this front's terms
        raise ParameterOutOfRange(
            f"Parameter 'input.style_index' is {index}; this server has no preset with that number.",
            param="input.style_index",
        ) from None


def style_index_of(row: TaskRow, resolve_style: ResolveStyle) -> int | None:
    """The ``style_index`` the task was submitted with (-1 for a style image)."""
    style = (row.params or {}).get("style")
    if style is None:
        return CUSTOM_STYLE if "style_image" in (row.inputs or {}) else None
    try:
        return resolve_style(str(style)).index
    except RestyleError:
        return None
