"""Volcengine model requests shared by the fronts that speak them (visual, veImageX, TOS aigc): the
``req_key`` translations, the ``ModelAction`` / ``ModelVersion`` dispatch and a synchronous run."""

from __future__ import annotations

from restyle.api.fronts.models.actions import MODEL_ACTIONS, model_body
from restyle.api.fronts.models.req_keys import MODELS, Translated, translate

__all__ = ["MODELS", "MODEL_ACTIONS", "Translated", "model_body", "translate"]
