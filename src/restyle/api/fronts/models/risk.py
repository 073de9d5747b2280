"""The Volcengine model API's risk codes (seed [000]): what the visual, veImageX and TOS aigc fronts
answer when a content check refuses a request, each in its own error format."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Risk:
    """A risk refusal: the seed's number and its message (the refusal's message starts with it)."""

    code: int
    message: str

    def describe(self, reason: str) -> str:
        """The message of a refusal: the seed's words, then restyle's reason."""
        return f"{self.message}: {reason}"


RISKS: dict[str, Risk] = {
    "safety.input_image": Risk(50411, "Pre Img Risk Not Pass"),
    "safety.output_image": Risk(50511, "Post Img Risk Not Pass"),
    "safety.input_text": Risk(50412, "Text Risk Not Pass"),
    "safety.output_text": Risk(50512, "Post Text Risk Not Pass"),  # restyle generates no text
    "safety.input_text_ip": Risk(50413, "Post Text Risk Not Pass"),  # the seed's words for 50413
    "safety.refused": Risk(50411, "Pre Img Risk Not Pass"),  # a check of no known stage
}


def risk_of(error_code: str | None) -> Risk | None:
    """The risk a restyle error code stands for (any other ``safety.*`` as ``safety.refused``)."""
    code = error_code or ""
    if code in RISKS:
        return RISKS[code]
    return RISKS["safety.refused"] if code.startswith("safety.") else None
