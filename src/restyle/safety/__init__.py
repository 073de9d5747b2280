"""Content safety: image checks before and after generation, and prompt checks against blocklists.

Callers use four functions: ``policy_for(settings, account_options)`` once per request,
``check_image(image, stage="input"|"output", policy=...)`` on each image, and
``check_text(prompt, policy)`` on each prompt; each raises a ``SafetyRefused`` error
(``safety.input_image``, ``safety.output_image``, ``safety.input_text``, ``safety.input_text_ip``).
``register(name, factory)`` adds an image checker plug-in.
"""

from __future__ import annotations

from restyle.safety.base import (
    Detection,
    ImageChecker,
    SafetyVerdict,
    check_image,
    decide,
    get_checker,
    register,
)
from restyle.safety.policy import SafetyPolicy, Stage, policy_for
from restyle.safety.text import Blocklist, TextVerdict, check_text, load_blocklist, scan_text

__all__ = [
    "Blocklist",
    "Detection",
    "ImageChecker",
    "SafetyPolicy",
    "SafetyVerdict",
    "Stage",
    "TextVerdict",
    "check_image",
    "check_text",
    "decide",
    "get_checker",
    "load_blocklist",
    "policy_for",
    "register",
    "scan_text",
]
