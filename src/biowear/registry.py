"""A small name -> object registry that produces 'valid options are ...' errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from biowear.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects for the CLI and config files.

    Args:
        kind: what the registry holds, used in error messages ("dataset", "label map", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Register ``item`` under ``name``; a duplicate name is a programming error."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> T:
        """Remove and return the item under ``name`` (a plugin's tests clean up after registering one).

        Raises:
            ConfigError: the name is unknown.
        """
        item = self.get(name)
        del self._items[name]
        return item

    def decorator(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""

        def wrap(item: T) -> T:
            return self.register(name, item)

        return wrap

    def get(self, name: str) -> T:
        """Return the object registered under ``name``.

        Raises:
            ConfigError: the name is unknown; the message lists the valid options.
        """
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} {name!r}; valid options are: {self.choices(', ')}") from None

    def choices(self, sep: str = " | ") -> str:
        """The registered names joined for help texts and error messages (``"a | b | c"``)."""
        return sep.join(self._items)

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
