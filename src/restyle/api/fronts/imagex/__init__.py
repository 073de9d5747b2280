"""The veImageX front: ``GetCVImageGenerateResult`` (service ``ImageX``) on ``POST /``, registered with
the OpenAPI action dispatcher, and the admin route that creates services."""

from __future__ import annotations

from restyle.api.fronts.imagex.action import get_cv_image_generate_result
from restyle.api.fronts.imagex.errors import ACTION
from restyle.api.fronts.imagex.routes import router
from restyle.api.fronts.openapi import register_action

register_action(ACTION, get_cv_image_generate_result)

__all__ = ["router"]
