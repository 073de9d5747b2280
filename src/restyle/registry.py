"""A small plug-in registry: built-ins listed explicitly, ``register()``, ``"pkg.mod:Class"``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from restyle.errors import ConfigurationError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps short names to factories of one plug-in kind.

    Built-ins are given as ``"module:attr"`` strings so that heavy modules are imported only
    when their plug-in is selected.
    """

    def __init__(self, kind: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self._paths: dict[str, str] = dict(builtins)
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str, factory: Callable[..., T]) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(set(self._paths) | set(self._factories))

    def resolve(self, name: str) -> Callable[..., T]:
        if name in self._factories:
            return self._factories[name]
        path = self._paths.get(name, name if ":" in name else None)
        if path is None:
            raise ConfigurationError(
                f"Unknown {self.kind} '{name}'; choose one of: {', '.join(self.names())}.",
                param=self.kind,
            )
        module_name, _, attr = path.partition(":")
        module = importlib.import_module(module_name)
        factory: Callable[..., T] = getattr(module, attr)
        self._factories[name] = factory
        return factory

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        return self.resolve(name)(*args, **kwargs)
