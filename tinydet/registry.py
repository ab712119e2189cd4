"""Named things (model modules, merges, backends, dataset formats, losses) in one registry style.

    MERGES = Registry("merge")

    @MERGES.register("nms")
    def nms(...): ...

    MERGES["nms"]            # the function; an unknown name is a TinydetError listing the names (and the closest)
    MERGES.names             # ('nms', ...) in registration order, for --help choices and docs

A registry is filled where its entries are defined, at import; looking a name up never imports anything.
Where the names must be known without importing the entries (command-line choices, which must not load
torch), the registry is made with its names declared, each with a line of help, and the entries register
against them: a name that was not declared cannot be registered.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from tinydet.errors import TinydetError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """An ordered mapping name -> entry whose lookups fail with a message a user can act on."""

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None, declared: Mapping[str, str] | None = None):
        self.kind = kind
        self.declared = dict(declared) if declared is not None else None  # name -> one line of help
        self._entries: dict[str, T] = {}
        for name, entry in (entries or {}).items():
            self.add(name, entry)

    def add(self, name: str, entry: T) -> T:
        """Register `entry` under `name` (twice, or a name not declared, is a programming error)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is registered twice")
        if self.declared is not None and name not in self.declared:
            raise ValueError(f"{self.kind} '{name}' is not declared (declared: {', '.join(self.declared)})")
        self._entries[name] = entry
        return entry

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator: register a class or function under `name` (default: its __name__)."""

        def decorate(entry: T) -> T:
            return self.add(name or entry.__name__, entry)

        return decorate

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.declared if self.declared is not None else self._entries)

    def help(self, name: str) -> str:
        """The declared line of help of `name` ('' when the registry declares none)."""
        return (self.declared or {}).get(self.check(name), "")

    def check(self, name: str) -> str:
        """`name` when it is a known name, else a TinydetError naming the choices and the closest match."""
        if name not in self.names:
            close = difflib.get_close_matches(str(name), self.names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise TinydetError(f"unknown {self.kind} '{name}' (choose from {', '.join(self.names)}){hint}")
        return name

    def __getitem__(self, name: str) -> T:
        if self.check(name) not in self._entries:
            raise RuntimeError(f"{self.kind} '{name}' is declared, but the module that registers it was not imported")
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
