from __future__ import annotations

import numpy as np

from restyle.imaging.output import apply_geometry, plan_geometry


def test_no_size_keeps_input_and_caps_long_side() -> None:
    assert plan_geometry((800, 600), None, None, None).width == 800
    capped = plan_geometry((4000, 3000), None, None, None, max_side=2048)
    assert (capped.width, capped.height) == (2048, 1536)


def test_one_side_keeps_aspect() -> None:
    g = plan_geometry((800, 600), None, 400, None)
    assert (g.width, g.height) == (400, 300)


def test_crop_is_centred_on_the_face_within_borders() -> None:
    g = plan_geometry((1000, 500), (800.0, 250.0), 256, 256)
    assert g.crop == (500, 0, 1000, 500)  # as central as the right border allows
    assert (g.width, g.height) == (256, 256)
    left = plan_geometry((1000, 500), (30.0, 250.0), 256, 256)
    assert left.crop[0] == 0


def test_apply_geometry_gives_requested_size() -> None:
    image = np.zeros((500, 1000, 3), np.uint8)
    out = apply_geometry(image, plan_geometry((1000, 500), (500.0, 250.0), 300, 200))
    assert out.shape == (200, 300, 3)


def test_one_side_never_makes_the_other_exceed_the_limits() -> None:
    tall = plan_geometry((100, 800), (50.0, 200.0), 2048, None, max_side=2048, min_side=64)
    assert (tall.width, tall.height) == (2048, 2048)  # the crop is square, around the face
    assert tall.crop == (0, 150, 100, 250)
    wide = plan_geometry((4000, 100), None, None, 2048, max_side=2048, min_side=64)
    assert (wide.width, wide.height) == (2048, 2048)
    thin = plan_geometry((4000, 50), None, 100, None, max_side=2048, min_side=64)
    assert (thin.width, thin.height) == (100, 64)
