"""The labels one request gets: settings ``labels`` with the request's own overrides."""

from __future__ import annotations

from restyle.config import LabelSettings
from restyle.domain import GenerateRequest
from restyle.errors import InvalidParameter
from restyle.labels.spec import LabelSpec


def request_labels(settings: LabelSettings, request: GenerateRequest) -> LabelSpec:
    """The LabelSpec of ``request``; a C2PA manifest asked for on a server without a signing
    certificate is an error naming ``label_c2pa`` (checked at submit, so no task fails for it)."""
    switches = {
        name: value
        for name, value in (
            ("metadata", request.label_metadata),
            ("invisible", request.label_invisible),
            ("c2pa", request.label_c2pa),
        )
        if value is not None
    }
    spec = LabelSpec.from_settings(settings, request.logo_info, **switches)
    if spec.c2pa and spec.signer is None:
        raise InvalidParameter(
            "Parameter 'label_c2pa' asks for a C2PA manifest, but this server has no signing certificate; "
            "set labels.c2pa_cert_path and labels.c2pa_key_path (see 'restyle keys c2pa-dev-cert').",
            param="label_c2pa",
        )
    return spec
