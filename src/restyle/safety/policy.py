"""SafetyPolicy: what one account's checks refuse, resolved from the settings and the account's options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from restyle.config import DEFAULT_SAFETY_IMAGE_CLASSES, SafetySettings, Settings
from restyle.errors import ConfigurationError

Stage = Literal["input", "output"]
STAGES: tuple[Stage, ...] = ("input", "output")


@dataclass(frozen=True)
class SafetyPolicy:
    """The content safety rules for one request.

    ``image_classes`` maps a detector class to the score at or above which an image is refused;
    ``general_blocklists`` and ``ip_blocklists`` are file paths or ``default`` (the shipped list).
    """

    enabled: bool = True
    image_checker: str = "nudenet"
    input_image: bool = True
    output_image: bool = True
    text: bool = True
    image_classes: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SAFETY_IMAGE_CLASSES))
    general_blocklists: tuple[str, ...] = ("default",)
    ip_blocklists: tuple[str, ...] = ("default",)
    leetspeak: bool = True

    def checks_image(self, stage: Stage) -> bool:
        """Whether images of ``stage`` are checked at all under this policy."""
        if not self.enabled:
            return False
        return self.input_image if stage == "input" else self.output_image

    def checks_text(self) -> bool:
        """Whether prompts are checked against the blocklists under this policy."""
        return self.enabled and self.text

    @classmethod
    def from_settings(cls, safety: SafetySettings) -> SafetyPolicy:
        """The policy of the settings' ``safety`` section, without account overrides."""
        return cls(
            enabled=safety.enabled,
            image_checker=safety.image_checker,
            input_image=safety.input_image,
            output_image=safety.output_image,
            text=safety.text,
            image_classes=dict(safety.image_classes),
            general_blocklists=tuple(safety.general_blocklists),
            ip_blocklists=tuple(safety.ip_blocklists),
            leetspeak=safety.leetspeak,
        )


def policy_for(settings: Settings, account_options: Mapping[str, Any] | None = None) -> SafetyPolicy:
    """The policy for an account: the ``safety`` settings overridden by ``account_options["safety"]``.

    The account value is either a bool (``False`` turns every check off for the account) or a mapping
    with any key of the ``safety`` settings. Its ``image_classes`` are merged over the settings' ones:
    a number sets that class's threshold, ``None`` stops refusing that class. The image classes are
    validated against the selected checker (an unknown or unusable class is a ConfigurationError).
    """
    # 1. Start from the settings; an account without a ``safety`` option gets them unchanged.
    base = settings.safety.model_dump()
    override = (account_options or {}).get("safety")
    if override is None:
        merged = base
    elif isinstance(override, bool):
        merged = {**base, "enabled": override}
    elif isinstance(override, Mapping):
        merged = _merge(base, override)
    else:
        raise ConfigurationError(
            f"The account option 'safety' must be true, false or a mapping of safety settings, "
            f"not {type(override).__name__}."
        )
    # 2. Validate the merged values with the settings' own rules (unknown keys, thresholds in (0, 1]).
    try:
        section = SafetySettings.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"safety.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"The account's safety options are invalid: {problems}.") from None
    policy = SafetyPolicy.from_settings(section)
    # 3. The checker says which classes it knows (importing its module, not loading its model).
    if policy.enabled and (policy.input_image or policy.output_image):
        from restyle.safety.base import checker_class

        checker_class(policy.image_checker).validate_policy(policy)
    return policy


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**base, **{key: value for key, value in override.items() if key != "image_classes"}}
    classes = override.get("image_classes")
    if classes is not None:
        if not isinstance(classes, Mapping):
            raise ConfigurationError(
                "The account option safety.image_classes must map class names to thresholds in (0, 1]."
            )
        combined = dict(base["image_classes"])
        for name, threshold in classes.items():
            if threshold is None:
                combined.pop(name, None)
            else:
                combined[name] = threshold
        merged["image_classes"] = combined
    return merged
