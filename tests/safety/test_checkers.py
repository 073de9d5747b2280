"""The image checker registry: built-ins, operators' own checkers, and clear errors for bad names."""

from __future__ import annotations

import numpy as np
import pytest

from restyle.errors import ConfigurationError, InputImageUnsafe, MissingExtra
from restyle.safety import Detection, ImageChecker, SafetyPolicy, SafetyVerdict, check_image, decide, register
from restyle.safety.base import NoneChecker, checker_class, get_checker
from restyle.safety.policy import Stage
from tests.safety.drawings import exposed_torso


class RedChecker(ImageChecker):
    """A test checker: the share of pure red pixels is the score of the class RED."""

    name = "red"
    classes = frozenset({"RED"})

    def check(self, image: np.ndarray, *, stage: Stage, policy: SafetyPolicy) -> SafetyVerdict:
        red = np.all(image == (255, 0, 0), axis=2).mean()
        return decide([Detection("RED", float(red))], stage=stage, policy=policy, checker=self.name)


def test_the_none_checker_allows_everything() -> None:
    policy = SafetyPolicy(image_checker="none")
    assert isinstance(get_checker("none"), NoneChecker)
    for stage in ("input", "output"):
        verdict = check_image(exposed_torso(), stage=stage, policy=policy)  # type: ignore[arg-type]
        assert verdict.allowed and verdict.checker == "none"


def test_an_unknown_checker_names_the_setting_and_the_choices() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_image(exposed_torso(), stage="input", policy=SafetyPolicy(image_checker="nudity"))
    message = caught.value.message
    assert "image_checker" in message and "RESTYLE_SAFETY__IMAGE_CHECKER" in message
    assert "none" in message and "nudenet" in message and caught.value.param == "safety.image_checker"


def test_a_checker_in_a_missing_package_names_pip_install() -> None:
    with pytest.raises(MissingExtra) as caught:
        checker_class("restyle_no_such_package.checks:Checker")
    assert "pip install" in caught.value.message and caught.value.status == 503


def test_registered_and_dotted_path_checkers() -> None:
    register("red", RedChecker)
    image = np.zeros((64, 64, 3), np.uint8)
    image[:32] = (255, 0, 0)
    policy = SafetyPolicy(image_checker="red", image_classes={"RED": 0.25})
    with pytest.raises(InputImageUnsafe) as caught:
        check_image(image, stage="input", policy=policy)
    assert caught.value.details == {"stage": "input", "label": "RED", "score": 0.5, "threshold": 0.25,
                                    "checker": "red"}
    assert check_image(image, stage="input", policy=SafetyPolicy(image_checker="red",
                                                                  image_classes={"RED": 0.75})).allowed
    dotted = SafetyPolicy(image_checker="restyle.safety.base:NoneChecker")
    assert check_image(image, stage="output", policy=dotted).checker == "none"
