"""Where a veImageX result is stored and how it is named (seed [001] and protocols section 4).

``Outputs``: the first name is used; no spaces, no leading or trailing ``/``, no ``//``, at most 180
bytes. Restyle's storage also limits a name to letters, digits, ``.``, ``_``, ``-`` and ``/`` (no
``.`` or ``..`` segment). The object lives at ``imagex/<ServiceId>/<name>``; its ``StoreUri`` is
``tos-cn-i-<ServiceId>/<name>`` as the vendor writes it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from restyle.errors import Conflict, InvalidParameter
from restyle.storage.imagex_services import object_key

MAX_NAME_BYTES = 180
_NAME_CHARS = re.compile(r"^[A-Za-z0-9._\-/]+$")
STORE_URI_PREFIX = "tos-cn-i-"


def output_name(outputs: Any) -> str:
    """The object name ``Outputs`` asks for (its first entry), or a fresh one when it names none."""
    if outputs in (None, []):
        return uuid.uuid4().hex
    if not isinstance(outputs, list) or not isinstance(outputs[0], str):
        raise InvalidParameter(
            "Parameter 'Outputs' must be a list of file names such as [\"demo1\"].", param="Outputs"
        )
    name: str = outputs[0]
    problem = None
    if not name or " " in name:
        problem = "must be non-empty and contain no spaces"
    elif name.startswith("/") or name.endswith("/") or "//" in name:
        problem = "must not start or end with '/' nor contain '//'"
    elif len(name.encode()) > MAX_NAME_BYTES:
        problem = f"is {len(name.encode())} bytes; the limit is {MAX_NAME_BYTES} bytes"
    elif not _NAME_CHARS.match(name) or any(part in (".", "..") for part in name.split("/")):
        problem = "may use only letters, digits, '.', '_', '-' and '/' (no '.' or '..' part)"
    if problem is not None:
        raise InvalidParameter(f"Parameter 'Outputs[0]' {problem}.", param="Outputs")
    return name


def storage_key(service_id: str, name: str) -> str:
    """The storage key of object ``name`` of the service."""
    return object_key(service_id, name)


def store_uri(service_id: str, name: str) -> str:
    """The vendor's storage URI of object ``name`` of the service."""
    return f"{STORE_URI_PREFIX}{service_id}/{name}"


def name_of_uri(service_id: str, uri: str) -> str:
    """The object name a store URI (``tos-cn-i-<ServiceId>/<name>``) or a bare name refers to."""
    prefix = f"{STORE_URI_PREFIX}{service_id}/"
    return output_name([uri.removeprefix(prefix)])


def already_exists(service_id: str, name: str) -> Conflict:
    return Conflict(
        f"The file '{name}' already exists in service '{service_id}' and Overwrite is false; "
        "set Overwrite to true to replace it.",
        code="imagex.exists",
        param="Outputs",
    )
