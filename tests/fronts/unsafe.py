"""A test photo whose generated output the image check refuses: a real face (the astronaut, so the
face-aware engine runs) over the drawn bare torso of tests/safety/drawings.py. NudeNet scores the
torso FEMALE_BREAST_EXPOSED at about 0.85 in the input and 0.77-0.82 after the classic engine's
`general` and `portrait` styles, so an account whose input image check is off sees the output refused."""

from __future__ import annotations

import cv2
import numpy as np

from tests.fronts.conftest import png_bytes
from tests.safety.drawings import exposed_torso

WIDTH, HEIGHT = 512, 768  # 2:3, inside DashScope's 1.5:1 and Portrait Photography's 512..2048


def face_over_torso(astronaut: np.ndarray) -> bytes:
    """PNG bytes, WIDTH x HEIGHT: the astronaut's head above the torso."""
    canvas = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    canvas[:] = (60, 70, 90)
    canvas[256:] = exposed_torso(size=512)
    canvas[:256, 128:384] = cv2.resize(astronaut[0:256, 128:384], (256, 256), interpolation=cv2.INTER_AREA)
    return png_bytes(canvas)


# the account option that lets such a photo in, so that the check after generation is what refuses it
INPUT_CHECK_OFF = {"safety": {"input_image": False}}
