"""``info``: the stored file's facts as JSON (width and height as displayed, format, size in bytes,
EXIF orientation), read from its header without decoding pixels. Must be the only action."""

from __future__ import annotations

from restyle.imaging.actions.base import Action
from restyle.imaging.actions.canvas import Canvas


class Info(Action):
    """Report on the image instead of processing it."""

    name = "info"
    once = True

    def apply(self, canvas: Canvas) -> Canvas:
        return canvas  # the pipeline answers info from the header alone
