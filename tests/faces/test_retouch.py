from __future__ import annotations

import numpy as np
import pytest

from restyle.errors import ParameterOutOfRange
from restyle.faces import Face, build_masks, retouch


def test_zero_strengths_return_the_image_unchanged(astronaut: np.ndarray, astronaut_face: Face) -> None:
    out = retouch(astronaut, [astronaut_face], hd=0.0, beautify=0.0, smooth=0.0)
    assert np.array_equal(out, astronaut)
    assert np.array_equal(retouch(astronaut, []), astronaut)


@pytest.mark.parametrize(
    "strengths",
    [
        {},
        {"hd": 1.0, "beautify": 0.0},
        {"hd": 0.0, "beautify": 1.0},
        {"hd": 0.0, "beautify": 0.0, "smooth": 1.0},
    ],
)
def test_changes_only_the_face(
    astronaut: np.ndarray, astronaut_face: Face, strengths: dict[str, float]
) -> None:
    before = astronaut.copy()
    out = retouch(astronaut, [astronaut_face], **strengths)
    assert np.array_equal(astronaut, before)  # the input is not modified
    changed = np.abs(out.astype(np.int16) - astronaut).max(axis=2) > 0
    assert changed.sum() > 500
    face = build_masks(astronaut, [astronaut_face]).face
    assert not changed[face == 0.0].any()


def test_smoothing_reduces_skin_texture(grace_hopper: np.ndarray, grace_face: Face) -> None:
    skin = build_masks(grace_hopper, [grace_face]).skin > 0.9
    out = retouch(grace_hopper, [grace_face], hd=0.0, beautify=0.0, smooth=1.0)

    def texture(image: np.ndarray) -> float:
        grey = image.astype(np.float32).mean(axis=2)
        lap = np.abs(
            grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
        )
        return float(lap[skin[1:-1, 1:-1]].mean())

    assert texture(out) < 0.8 * texture(grace_hopper)


def test_beautify_brightens_skin(grace_hopper: np.ndarray, grace_face: Face) -> None:
    skin = build_masks(grace_hopper, [grace_face]).skin > 0.9
    out = retouch(grace_hopper, [grace_face], hd=0.0, beautify=1.0)
    assert out[skin].mean() > grace_hopper[skin].mean() + 2


def test_rejects_out_of_range(astronaut: np.ndarray, astronaut_face: Face) -> None:
    with pytest.raises(ParameterOutOfRange):
        retouch(astronaut, [astronaut_face], hd=1.5)
