"""Processing actions on stored images: ``image/resize,w_100/rotate,90/format,webp`` (OSS/TOS syntax).

Public API: :func:`parse_actions`, :func:`process_image` (-> :class:`ProcessedImage`),
:class:`ActionChain`, and the plug-in kind (:class:`Action`, :func:`register`).
"""

from __future__ import annotations

from restyle.imaging.actions.base import BUILTIN_ACTIONS, Action, action_class, action_names, register
from restyle.imaging.actions.encoding import EXTENSIONS, MEDIA_TYPES, Metadata
from restyle.imaging.actions.parser import ActionChain, parse_actions
from restyle.imaging.actions.pipeline import DEFAULT_MAX_OUTPUT_PIXELS, ProcessedImage, process_image

__all__ = [
    "BUILTIN_ACTIONS",
    "DEFAULT_MAX_OUTPUT_PIXELS",
    "EXTENSIONS",
    "MEDIA_TYPES",
    "Action",
    "ActionChain",
    "Metadata",
    "ProcessedImage",
    "action_class",
    "action_names",
    "parse_actions",
    "process_image",
    "register",
]
