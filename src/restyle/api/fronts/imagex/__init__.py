"""The veImageX front: ``GetCVImageGenerateResult`` (service ``ImageX``) on ``POST /``, registered with
the OpenAPI action dispatcher, the admin route that creates services, and the public image URLs on bound domains."""

from __future__ import annotations

from restyle.api.fronts.imagex.action import get_cv_image_generate_result
from restyle.api.fronts.imagex.domains import ImagexDomainMiddleware
from restyle.api.fronts.imagex.domains import router as domain_router
from restyle.api.fronts.imagex.errors import ACTION
from restyle.api.fronts.imagex.routes import router
from restyle.api.fronts.openapi import register_action

register_action(ACTION, get_cv_image_generate_result)
router.include_router(domain_router)  # GET http://<bound domain>/<name>~<template>

__all__ = ["ImagexDomainMiddleware", "router"]
