"""What the processing endpoints share: the action chain a request names, and running it on a stored file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from restyle.api.services import Services
from restyle.errors import InvalidParameter
from restyle.imaging.actions import ActionChain, parse_actions
from restyle.imaging.derived import DerivedImage, process_stored


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


async def derive(
    services: Services, key: str, chain: ActionChain, resolve_object: Callable[[str], bytes] | None = None
) -> DerivedImage:
    """``key`` processed by ``chain`` within the server's processing limits, off the event loop (cached
    beside the file); ``resolve_object`` reads the other images a watermark names (None refuses them)."""
    limits = services.settings.images
    return await asyncio.to_thread(
        process_stored,
        services.storage,
        key,
        chain,
        deadline_seconds=limits.process_deadline_seconds,
        max_output_pixels=limits.max_pixels,
        resolve_object=resolve_object,
    )
