"""``ModelAction`` / ``ModelVersion`` (veImageX GetCVImageGenerateResult, TOS aigc ``ModelConfig``): which
Volcengine model action a request names, and the ``req_key`` it implies.

``CVProcess`` takes the model from ``ReqJson.req_key``; a model's own action (``Img2ImgXLSft``,
``Img2ImgAnimeAcceleratedMaintainID``) implies its key, and a ``req_key`` naming another model is refused.
"""

from __future__ import annotations

from typing import Any

from restyle.api.fronts.models.req_keys import ANIME, XL_SFT
from restyle.errors import InvalidParameter, UnknownModel

V2022 = "2022-08-31"

# (ModelAction, ModelVersion) -> the req_key the action implies (None: the one ReqJson names)
MODEL_ACTIONS: dict[tuple[str, str], str | None] = {
    ("CVProcess", V2022): None,
    ("Img2ImgXLSft", V2022): XL_SFT,
    ("Img2ImgAnimeAcceleratedMaintainID", V2022): ANIME,
}
DEFAULT_ACTION = ("CVProcess", V2022)


def model_body(action: Any, version: Any, req_json: Any, prefix: str = "") -> dict[str, Any]:
    """The model body ``ReqJson`` stands for under ``ModelAction`` at ``ModelVersion`` (a copy, with
    ``req_key`` filled in when the action implies it). ``prefix`` names the parameters' parent."""
    # 1. the action (CVProcess at 2022-08-31 when both are absent, as the vendor defaults)
    pair = (action or DEFAULT_ACTION[0], version or DEFAULT_ACTION[1])
    if pair not in MODEL_ACTIONS:
        known = ", ".join(f"{name} {ver}" for name, ver in MODEL_ACTIONS)
        raise UnknownModel(
            f"Parameters '{prefix}ModelAction' and '{prefix}ModelVersion' are {pair[0]!r} and {pair[1]!r}; "
            f"this server serves: {known}.",
            param=f"{prefix}ModelAction",
        )
    # 2. the body (a JSON object; the SDK sends one, some callers send its text)
    if req_json in (None, ""):
        req_json = {}
    if not isinstance(req_json, dict):
        raise InvalidParameter(
            f'Parameter \'{prefix}ReqJson\' must be a JSON object such as {{"req_key": "i2i_xl_sft"}}.',
            param=f"{prefix}ReqJson",
        )
    body = dict(req_json)
    # 3. the model the action implies must agree with the one ReqJson names
    implied = MODEL_ACTIONS[pair]
    if implied is not None:
        named = body.setdefault("req_key", implied)
        if named != implied:
            raise UnknownModel(
                f"Parameter '{prefix}ReqJson.req_key' is {named!r}; ModelAction {pair[0]} serves "
                f"req_key '{implied}' only.",
                param=f"{prefix}ReqJson.req_key",
            )
    return body
