"""policy_for: the safety settings, overridden per account, validated against the image checker."""

from __future__ import annotations

import pytest

from restyle.config import DEFAULT_SAFETY_IMAGE_CLASSES, Settings
from restyle.errors import ConfigurationError
from restyle.safety import SafetyPolicy, policy_for


@pytest.fixture
def settings() -> Settings:
    return Settings.load(safety={"image_classes": {"FEMALE_BREAST_EXPOSED": 0.6, "ANUS_EXPOSED": 0.4}})


def test_defaults_come_from_the_settings(settings: Settings) -> None:
    policy = policy_for(settings, {})
    assert policy.enabled and policy.input_image and policy.output_image and policy.text
    assert dict(policy.image_classes) == {"FEMALE_BREAST_EXPOSED": 0.6, "ANUS_EXPOSED": 0.4}
    assert policy.general_blocklists == ("default",) and policy.ip_blocklists == ("default",)
    assert policy_for(settings, None) == policy
    assert dict(policy_for(Settings.load(), {}).image_classes) == DEFAULT_SAFETY_IMAGE_CLASSES
    assert dict(SafetyPolicy().image_classes) == DEFAULT_SAFETY_IMAGE_CLASSES


def test_an_account_can_switch_safety_off_or_on(settings: Settings) -> None:
    off = policy_for(settings, {"safety": False})
    assert not off.enabled and not off.checks_image("input") and not off.checks_text()
    assert policy_for(Settings.load(safety={"enabled": False}), {"safety": True}).enabled


def test_account_classes_merge_over_the_settings(settings: Settings) -> None:
    policy = policy_for(settings, {"safety": {
        "image_classes": {"FEMALE_BREAST_EXPOSED": 0.8, "ANUS_EXPOSED": None, "BUTTOCKS_EXPOSED": 0.7},
        "output_image": False, "ip_blocklists": []}})
    assert dict(policy.image_classes) == {"FEMALE_BREAST_EXPOSED": 0.8, "BUTTOCKS_EXPOSED": 0.7}
    assert policy.checks_image("input") and not policy.checks_image("output")
    assert policy.ip_blocklists == () and policy.general_blocklists == ("default",)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"safety": {"image_classes": {"ANUS_EXPOSED": 1.5}}}, "safety.image_classes.ANUS_EXPOSED"),
        ({"safety": {"image_classes": {"ANUS_EXPOSED": 0}}}, "safety.image_classes.ANUS_EXPOSED"),
        ({"safety": {"treshold": 0.5}}, "safety.treshold"),
        ({"safety": "yes"}, "'safety'"),
        ({"safety": {"image_classes": ["ANUS_EXPOSED"]}}, "safety.image_classes"),
    ],
)
def test_bad_account_options_are_named(settings: Settings, options: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        policy_for(settings, options)
    assert named in caught.value.message


def test_classes_are_checked_against_the_checker(settings: Settings) -> None:
    with pytest.raises(ConfigurationError) as caught:
        policy_for(settings, {"safety": {"image_classes": {"FACE_FEMALE": 0.5}}})
    assert "FACE_FEMALE" in caught.value.message and "gender" in caught.value.message
    with pytest.raises(ConfigurationError, match="NAKED.*BUTTOCKS_EXPOSED"):
        policy_for(settings, {"safety": {"image_classes": {"NAKED": 0.5}}})
    # the none checker reports no classes, so it takes any; a disabled image check is not validated
    assert policy_for(settings, {"safety": {"image_checker": "none", "image_classes": {"NAKED": 0.5}}})
    assert policy_for(settings, {"safety": {"input_image": False, "output_image": False,
                                            "image_classes": {"NAKED": 0.5}}})


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_SAFETY__IMAGE_CHECKER", "none")
    monkeypatch.setenv("RESTYLE_SAFETY__GENERAL_BLOCKLISTS", "default, /etc/restyle/extra.txt")
    monkeypatch.setenv("RESTYLE_SAFETY__IP_BLOCKLISTS", '["/etc/restyle/brands.txt"]')
    policy = policy_for(Settings.load(), {})
    assert policy.image_checker == "none"
    assert policy.general_blocklists == ("default", "/etc/restyle/extra.txt")
    assert policy.ip_blocklists == ("/etc/restyle/brands.txt",)
