"""A small generic registry: one per plugin kind, with origins, duplicate checks and did-you-mean."""

from __future__ import annotations

import difflib
from typing import Generic, Iterator, TypeVar

import attrs

T = TypeVar("T")


class RegistryError(Exception):
    """Base class of registry errors."""


class DuplicateError(RegistryError):
    """Two plugins registered the same id. The message names both origins."""


class UnknownNameError(RegistryError, KeyError):
    """Lookup of an id nobody registered; the message suggests close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@attrs.frozen
class Entry(Generic[T]):
    id: str
    spec: T
    origin: str  # the plugin (entry-point name) that registered it


class Registry(Generic[T]):
    """Specs of one kind (tasks, modalities, ...), keyed by id (case-insensitive lookup)."""

    def __init__(self, kind: str, spec_type: type[T]) -> None:
        self.kind = kind
        self.singular = kind[:-3] + "y" if kind.endswith("ies") else kind.removesuffix("s")
        self.spec_type = spec_type
        self._entries: dict[str, Entry[T]] = {}

    def check(self, spec: T) -> None:
        """Raise TypeError/ValueError/SpecError if ``spec`` is not a valid spec of this kind."""
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"{self.kind}: expected a {self.spec_type.__name__}, got {type(spec).__name__}")
        attrs.validate(spec)

    def add(self, spec: T, origin: str, *, replace: bool = False) -> Entry[T] | None:
        """Register ``spec``; an id already there raises DuplicateError unless ``replace``, which
        drops the old entry (the new one goes last) and returns it."""
        self.check(spec)
        key = spec.id.lower()
        if replace:
            old = self._entries.pop(key, None)
            self._entries[key] = Entry(spec.id, spec, origin)
            return old
        if key in self._entries:
            first = self._entries[key]
            raise DuplicateError(f"{self.singular} id {spec.id!r} registered twice: "
                                 f"by plugin {first.origin!r} and by plugin {origin!r}")
        self._entries[key] = Entry(spec.id, spec, origin)
        return None

    def restore(self, entry: Entry[T]) -> None:
        """Put back an entry ``add(..., replace=True)`` displaced."""
        self._entries[entry.id.lower()] = entry

    def remove(self, id: str) -> None:
        self._entries.pop(id.lower(), None)

    def get(self, id: str) -> T:
        return self.entry(id).spec

    def entry(self, id: str) -> Entry[T]:
        try:
            return self._entries[id.lower()]
        except KeyError:
            names = [e.id for e in self._entries.values()]
            close = difflib.get_close_matches(id, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(names)) or "none"
            raise UnknownNameError(f"unknown {self.singular} {id!r}.{hint} Registered: {known}") from None

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and id.lower() in self._entries

    def __iter__(self) -> Iterator[T]:
        return (e.spec for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry[T]]:
        return list(self._entries.values())

    def ids(self) -> list[str]:
        return [e.id for e in self._entries.values()]
