"""The nudenet image checker with the real model: safe photos pass, a drawn bare chest is refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restyle.config import DEFAULT_SAFETY_IMAGE_CLASSES
from restyle.errors import InputImageUnsafe, OutputImageUnsafe, SafetyRefused
from restyle.safety import SafetyPolicy, check_image, get_checker
from restyle.safety.image import INPUT_SIDE, NUDENET_LABELS, NudeNetChecker, decode, letterbox
from tests.safety.drawings import SKIN_TONES, covered_torso, exposed_torso


@pytest.fixture(scope="module")
def checker() -> NudeNetChecker:
    found = get_checker("nudenet")
    assert isinstance(found, NudeNetChecker)
    return found


@pytest.mark.parametrize("stage", ["input", "output"])
@pytest.mark.parametrize("sample", ["astronaut", "grace_hopper"])
def test_safe_photos_pass(sample: str, stage: str, request: pytest.FixtureRequest) -> None:
    photo = request.getfixturevalue(sample)
    verdict = check_image(photo, stage=stage, policy=SafetyPolicy())  # type: ignore[arg-type]
    assert verdict.allowed and verdict.checker == "nudenet"
    assert not any(d.label in DEFAULT_SAFETY_IMAGE_CLASSES for d in verdict.detections)


def test_safe_photo_at_1024_grey_and_rgba(checker: NudeNetChecker, astronaut: np.ndarray) -> None:
    large = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    for image in (large, grey, rgba):
        assert checker.check(image, stage="input", policy=SafetyPolicy()).allowed


def test_face_labels_are_never_reported(checker: NudeNetChecker, astronaut: np.ndarray) -> None:
    # the model does see a face here (FACE_FEMALE about 0.8); its gender guess is not used
    output, _ = checker.raw_output(astronaut)
    assert output[0, 4 + NUDENET_LABELS.index("FACE_FEMALE")].max() > 0.5
    assert all(not d.label.startswith("FACE_") for d in checker.detect(astronaut))


@pytest.mark.parametrize("skin", SKIN_TONES)
def test_drawn_bare_chest_is_refused_at_input(skin: tuple[int, int, int]) -> None:
    with pytest.raises(InputImageUnsafe) as caught:
        check_image(exposed_torso(skin), stage="input", policy=SafetyPolicy())
    error = caught.value
    assert (error.code, error.status) == ("safety.input_image", 422)
    assert error.details["stage"] == "input"
    assert error.details["label"] == "FEMALE_BREAST_EXPOSED"
    assert error.details["score"] >= 0.5
    assert "FEMALE_BREAST_EXPOSED" in error.message and "0.50" in error.message


def test_drawn_bare_chest_is_refused_at_output_with_its_own_code() -> None:
    with pytest.raises(OutputImageUnsafe) as caught:
        check_image(exposed_torso(), stage="output", policy=SafetyPolicy())
    assert caught.value.code == "safety.output_image" and caught.value.details["stage"] == "output"
    assert caught.value.param == "image" and "generated image" in caught.value.message
    with pytest.raises(InputImageUnsafe) as style:
        check_image(exposed_torso(), stage="input", policy=SafetyPolicy(), param="style_image")
    assert style.value.param == "style_image"
    assert not isinstance(caught.value, InputImageUnsafe)


def test_boxes_sit_on_the_two_drawn_discs(checker: NudeNetChecker) -> None:
    found = [d for d in checker.detect(exposed_torso()) if d.label == "FEMALE_BREAST_EXPOSED"]
    centres = sorted(x + w / 2 for x, _, w, _ in (d.box for d in found))
    assert len(found) == 2
    assert abs(centres[0] - (256 - 88)) < 40 and abs(centres[1] - (256 + 88)) < 40


def test_the_same_drawing_covered_passes(checker: NudeNetChecker) -> None:
    assert checker.check(covered_torso(), stage="input", policy=SafetyPolicy()).allowed


def test_thresholds_and_classes_come_from_the_policy(checker: NudeNetChecker) -> None:
    drawing = exposed_torso()
    strict = SafetyPolicy(image_classes={"FEMALE_BREAST_EXPOSED": 0.99})
    without = SafetyPolicy(image_classes={"ANUS_EXPOSED": 0.4})
    belly = SafetyPolicy(image_classes={"BELLY_EXPOSED": 0.3})
    assert checker.check(drawing, stage="input", policy=strict).allowed
    assert checker.check(drawing, stage="input", policy=without).allowed
    refused = checker.check(drawing, stage="input", policy=belly)
    assert not refused.allowed and refused.label == "BELLY_EXPOSED" and refused.threshold == 0.3


def test_a_policy_that_skips_the_stage_or_everything_never_runs_the_checker() -> None:
    drawing = exposed_torso()
    for policy, stage in ((SafetyPolicy(enabled=False), "input"), (SafetyPolicy(input_image=False), "input"),
                          (SafetyPolicy(output_image=False), "output"), (SafetyPolicy(image_classes={}), "input")):
        verdict = check_image(drawing, stage=stage, policy=policy)  # type: ignore[arg-type]
        assert verdict.allowed and verdict.checker == "skipped"
    with pytest.raises(SafetyRefused):
        check_image(drawing, stage="output", policy=SafetyPolicy(input_image=False))


def test_letterbox_keeps_the_aspect_ratio_top_left() -> None:
    wide = np.full((100, 400, 3), 255, np.uint8)
    blob, back = letterbox(wide)
    assert blob.shape == (1, 3, INPUT_SIDE, INPUT_SIDE) and blob.dtype == np.float32
    assert back == pytest.approx(400 / INPUT_SIDE)
    assert blob[0, :, :80, :].min() == pytest.approx(1.0) and blob[0, :, 80:, :].max() == 0.0


def test_decode_converts_boxes_drops_faces_and_suppresses_per_class() -> None:
    def anchor(cx: float, cy: float, w: float, h: float, label: str, score: float) -> np.ndarray:
        column = np.zeros(4 + len(NUDENET_LABELS), np.float32)
        column[:4] = (cx, cy, w, h)
        column[4 + NUDENET_LABELS.index(label)] = score
        return column

    anchors = [
        anchor(100, 100, 40, 40, "BUTTOCKS_EXPOSED", 0.9),
        anchor(102, 100, 40, 40, "BUTTOCKS_EXPOSED", 0.8),  # same class, overlapping: suppressed
        anchor(101, 100, 40, 40, "BELLY_EXPOSED", 0.7),  # another class at the same place: kept
        anchor(200, 200, 40, 40, "FACE_FEMALE", 0.95),  # face labels: dropped
        anchor(300, 300, 40, 40, "ANUS_EXPOSED", 0.1),  # under the minimum score
        anchor(5, 5, 40, 40, "FEET_EXPOSED", 0.5),  # clipped at the image's edge
    ]
    output = np.stack(anchors, axis=1)[np.newaxis]
    found = decode(output, back=2.0, width=500, height=500)
    assert [(d.label, round(d.score, 2)) for d in found] == [
        ("BUTTOCKS_EXPOSED", 0.9), ("BELLY_EXPOSED", 0.7), ("FEET_EXPOSED", 0.5)]
    assert found[0].box == (160, 160, 80, 80)
    assert found[2].box == (0, 0, 50, 50)


def test_healthcheck_runs_the_model(checker: NudeNetChecker) -> None:
    health = checker.healthcheck()
    assert health["ok"] and health["model"].endswith("320n.onnx") and health["blank_image_detections"] == 0
