"""What the processing endpoints share: the action chain a request names."""

from __future__ import annotations

from restyle.api.services import Services
from restyle.errors import InvalidParameter
from restyle.imaging.actions import ActionChain, parse_actions


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
