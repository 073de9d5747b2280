"""The decision rule on detector outputs.

RECORDED holds what the real NudeNet model reported for the drawn bare chest of tests/safety/drawings.py
(``exposed_torso()``), recorded from this code's ``NudeNetChecker.detect``; the safe photos (astronaut,
grace_hopper) gave no detection at all once the face labels are dropped. test_image.py runs the model
itself; these tests pin the rule that turns detections into a verdict.
"""

from __future__ import annotations

import pytest

from restyle.safety import Detection, SafetyPolicy, decide

RECORDED = (
    Detection("FEMALE_BREAST_EXPOSED", 0.8806, (245, 179, 200, 202)),
    Detection("FEMALE_BREAST_EXPOSED", 0.8720, (67, 176, 199, 206)),
    Detection("BELLY_EXPOSED", 0.6764, (76, 392, 363, 119)),
    Detection("BELLY_EXPOSED", 0.2775, (150, 3, 213, 185)),
)


def test_default_policy_refuses_the_recorded_drawing() -> None:
    verdict = decide(RECORDED, stage="input", policy=SafetyPolicy())
    assert not verdict.allowed
    assert (verdict.label, verdict.score, verdict.threshold) == ("FEMALE_BREAST_EXPOSED", 0.8806, 0.5)
    assert verdict.detections == RECORDED


def test_no_detection_is_allowed() -> None:
    assert decide([], stage="output", policy=SafetyPolicy()).allowed


def test_a_score_equal_to_the_threshold_refuses() -> None:
    policy = SafetyPolicy(image_classes={"BELLY_EXPOSED": 0.6764})
    assert not decide(RECORDED, stage="input", policy=policy).allowed
    policy = SafetyPolicy(image_classes={"BELLY_EXPOSED": 0.6765})
    assert decide(RECORDED, stage="input", policy=policy).allowed


def test_the_detection_furthest_above_its_threshold_is_reported() -> None:
    policy = SafetyPolicy(image_classes={"FEMALE_BREAST_EXPOSED": 0.85, "BELLY_EXPOSED": 0.2})
    verdict = decide(RECORDED, stage="output", policy=policy)
    assert (verdict.label, verdict.score, verdict.stage) == ("BELLY_EXPOSED", 0.6764, "output")


@pytest.mark.parametrize("stage", ["input", "output"])
def test_the_error_names_stage_class_score_and_limit(stage: str) -> None:
    verdict = decide(RECORDED, stage=stage, policy=SafetyPolicy())  # type: ignore[arg-type]
    error = verdict.error()
    assert error is not None and error.code == f"safety.{stage}_image" and error.status == 422
    assert error.param == "image"
    assert "FEMALE_BREAST_EXPOSED" in error.message and "0.88" in error.message and "0.50" in error.message
    assert ("input image" if stage == "input" else "generated image") in error.message
    with pytest.raises(type(error)):
        verdict.raise_if_refused()
