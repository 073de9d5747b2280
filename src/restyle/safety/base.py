"""Image checker plug-ins: the base class, the verdict, the decision rule and the registry.

A checker turns an image into detections (class, score, box); ``decide`` applies the policy's
classes and thresholds to them. Built-ins are ``none`` and ``nudenet``; operators add their own
with ``register()`` or name one as ``"package.module:Class"`` in ``safety.image_checker``.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from restyle.errors import (
    ConfigurationError,
    InputImageUnsafe,
    MissingExtra,
    OutputImageUnsafe,
    SafetyRefused,
)
from restyle.registry import Registry
from restyle.safety.policy import SafetyPolicy, Stage


@dataclass(frozen=True)
class Detection:
    """One region a detector found: its class, its score in 0..1 and its box (x, y, width, height)."""

    label: str
    score: float
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass(frozen=True)
class SafetyVerdict:
    """The outcome of one image check: allowed or not, and the class and score that refused it."""

    stage: Stage
    allowed: bool
    checker: str = ""
    label: str | None = None
    score: float = 0.0
    threshold: float | None = None
    detections: tuple[Detection, ...] = ()

    def error(self, param: str = "image") -> SafetyRefused | None:
        """The error this verdict stands for (``safety.input_image`` / ``safety.output_image``), if any."""
        if self.allowed:
            return None
        what = "input image" if self.stage == "input" else "generated image"
        message = (
            f"The {what} was refused by the content safety check: the class {self.label} scored "
            f"{self.score:.2f}, at or above this account's limit of {self.threshold:.2f}."
        )
        details = {"stage": self.stage, "label": self.label, "score": round(self.score, 4),
                   "threshold": self.threshold, "checker": self.checker}
        kind = InputImageUnsafe if self.stage == "input" else OutputImageUnsafe
        return kind(message, param=param, details=details)

    def raise_if_refused(self, param: str = "image") -> None:
        """Raise the verdict's error when the image was refused (``param`` names the request field)."""
        error = self.error(param)
        if error is not None:
            raise error


def decide(
    detections: Iterable[Detection], *, stage: Stage, policy: SafetyPolicy, checker: str = ""
) -> SafetyVerdict:
    """The verdict of ``policy`` on ``detections``: refused when a listed class reaches its threshold.

    Of several refusing detections the one furthest above its threshold is reported.
    """
    found = tuple(detections)
    worst: tuple[float, Detection, float] | None = None
    for detection in found:
        threshold = policy.image_classes.get(detection.label)
        if threshold is None or detection.score < threshold:
            continue
        margin = detection.score - threshold
        if worst is None or margin > worst[0]:
            worst = (margin, detection, threshold)
    if worst is None:
        return SafetyVerdict(stage=stage, allowed=True, checker=checker, detections=found)
    _, detection, threshold = worst
    return SafetyVerdict(stage=stage, allowed=False, checker=checker, label=detection.label,
                         score=detection.score, threshold=threshold, detections=found)


class ImageChecker(abc.ABC):
    """Base of every image checker plug-in.

    ``check`` is called on each input image before generation and each output after it, with RGB
    uint8 pixels (H x W x 3). ``classes`` lists the class names a policy may refuse (None: any name);
    ``setup`` loads models once per process and is called lazily by ``check``.
    """

    name: ClassVar[str] = "checker"
    classes: ClassVar[frozenset[str] | None] = None

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load models; safe to call more than once."""

    @abc.abstractmethod
    def check(self, image: np.ndarray, *, stage: Stage, policy: SafetyPolicy) -> SafetyVerdict:
        """The verdict of ``policy`` on ``image`` (never raises for a refusal; see ``check_image``)."""

    @classmethod
    def validate_policy(cls, policy: SafetyPolicy) -> None:
        """Raise ConfigurationError when the policy names a class this checker does not report."""
        if cls.classes is None:
            return
        unknown = sorted(set(policy.image_classes) - cls.classes)
        if unknown:
            raise ConfigurationError(
                f"The safety setting image_classes names {', '.join(unknown)}, which the '{cls.name}' "
                f"image checker does not report; choose among {', '.join(sorted(cls.classes))}.",
                param="safety.image_classes",
            )

    def healthcheck(self) -> dict[str, Any]:
        """Load the checker and report that it works."""
        self.setup()
        return {"checker": self.name, "ok": True}


class NoneChecker(ImageChecker):
    """The ``none`` checker: every image is allowed (for operators who check elsewhere)."""

    name = "none"

    def check(self, image: np.ndarray, *, stage: Stage, policy: SafetyPolicy) -> SafetyVerdict:
        return SafetyVerdict(stage=stage, allowed=True, checker=self.name)


CHECKERS: Registry[ImageChecker] = Registry(
    "image checker",
    {"none": "restyle.safety.base:NoneChecker", "nudenet": "restyle.safety.image:NudeNetChecker"},
)
_instances: dict[str, ImageChecker] = {}
_instances_lock = threading.Lock()


def register(name: str, factory: Callable[[], ImageChecker]) -> None:
    """Make ``factory`` (a checker class or a function returning a checker) selectable as ``name``."""
    with _instances_lock:
        CHECKERS.register(name, factory)
        _instances.pop(name, None)


def checker_class(name: str) -> Any:
    """The factory registered as ``name`` (a clear ConfigurationError or MissingExtra otherwise)."""
    if name not in CHECKERS.names() and ":" not in name:
        raise ConfigurationError(
            f"The safety setting image_checker (RESTYLE_SAFETY__IMAGE_CHECKER) is '{name}', which is no "
            f"image checker; choose one of {', '.join(CHECKERS.names())}, register one with "
            f"restyle.safety.register(), or give 'package.module:Class'.",
            param="safety.image_checker",
        )
    try:
        return CHECKERS.resolve(name)
    except (ImportError, AttributeError) as exc:
        raise MissingExtra(
            f"The image checker '{name}' cannot be loaded ({exc}); install the package that provides it "
            f"with pip install, or change the safety setting image_checker.",
            param="safety.image_checker",
        ) from exc


def get_checker(name: str) -> ImageChecker:
    """The process-wide instance of the checker ``name`` (created on first use, model loaded lazily)."""
    with _instances_lock:
        checker = _instances.get(name)
        if checker is None:
            checker = checker_class(name)()
            _instances[name] = checker
        return checker


def check_image(
    image: np.ndarray, *, stage: Stage, policy: SafetyPolicy, param: str = "image"
) -> SafetyVerdict:
    """Check ``image`` at ``stage`` under ``policy``; raise ``safety.input_image`` / ``safety.output_image``.

    ``param`` names the request field in the error (``image``, ``style_image``). Returns the (allowed)
    verdict; a policy that skips this stage returns an allowed verdict at once.
    """
    if not policy.checks_image(stage) or not policy.image_classes:
        return SafetyVerdict(stage=stage, allowed=True, checker="skipped")
    verdict = get_checker(policy.image_checker).check(image, stage=stage, policy=policy)
    verdict.raise_if_refused(param)
    return verdict
