"""What the processing endpoints share: the action chain a request names, and a scoped object reader."""

from __future__ import annotations

from collections.abc import Callable

from restyle.api.services import Services
from restyle.errors import InvalidParameter
from restyle.imaging.actions import ActionChain, parse_actions
from restyle.storage import Storage, validate_key


def chain_from_query(services: Services, actions: str | None, template: str | None) -> ActionChain | None:
    """The chain of an ``x-process`` action string or an ``x-template`` name (not both), or None."""
    if actions is not None and template is not None:
        raise InvalidParameter(
            "Send either 'x-process' (an action string) or 'x-template' (a template name), not both.",
            param="x-template",
        )
    if template is not None:
        return services.templates.get(template)
    if actions is not None:
        return parse_actions(actions)
    return None


def namespace_of(key: str) -> str:
    """The first two segments of a key (``tasks/<account>``): the scope one link may read from."""
    return "/".join(key.split("/")[:2]) + "/"


def scoped_reader(storage: Storage, key: str) -> Callable[[str], bytes]:
    """Reads the objects a watermark action names, only within ``key``'s own namespace.

    A link to one file must never reveal another account's files through an image watermark.
    """
    scope = namespace_of(key)

    def read(name: str) -> bytes:
        relative = name[len(scope) :] if name.startswith(scope) else name
        return storage.get(validate_key(scope + relative))  # no '..' can pass validate_key

    return read
