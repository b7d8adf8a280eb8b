"""Input adapters: each reads one corpus layout and yields :class:`~..items.RawItem` records.

An adapter is a function ``iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]``
declared by an :class:`Adapter` record (the tasks it can produce, the release stem each task's
samples are filed under, the options it takes). :data:`ADAPTERS` maps names to records; a new
layout is one module with one such record added there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import attrs

from ..items import BuildError, RawItem, Skipped, Target


@attrs.frozen
class AdapterContext:
    """What an adapter is given: the input ``path``, the wanted ``tasks``, the stem overrides
    (``sources``: task id -> stem), the adapter's own ``options``, the plugin ``host``, and the
    input's ``name``."""

    adapter: "Adapter"
    path: Path
    tasks: frozenset[str]
    sources: Mapping[str, str]
    options: Mapping[str, Any]
    host: Any
    name: str

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def option_path(self, key: str, default: str | None = None) -> Path | None:
        """An option naming a file: relative paths are taken from the input path's folder."""
        value = self.options.get(key, default)
        if value is None:
            return None
        path = Path(str(value)).expanduser()
        if path.is_absolute():
            return path
        base = self.path if self.path.is_dir() else self.path.parent
        return base / path

    def targets(self, values: Mapping[str, str | None]) -> tuple[Target, ...]:
        """Targets of the wanted tasks out of ``{task: value or None}`` (None: unknown for this
        item), each filed under the input's stem override or the adapter's default stem."""
        return tuple(Target(task, value, self.sources.get(task, self.adapter.sources.get(task)))
                     for task, value in values.items() if task in self.tasks and value is not None)


ItemIterator = Callable[[AdapterContext], Iterator["RawItem | Skipped"]]


@attrs.frozen
class Adapter:
    """A registered input layout. ``tasks`` None = whatever the input holds (LLaSO release)."""

    name: str
    iter_items: ItemIterator
    tasks: tuple[str, ...] | None
    sources: Mapping[str, str] = attrs.field(factory=dict)
    options: tuple[str, ...] = ()
    description: str = ""

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise BuildError(f"adapter {self.name}: unknown option(s) {', '.join(unknown)}; "
                             f"it takes: {', '.join(self.options) or 'none'}")


def _registry() -> dict[str, Adapter]:
    from . import cremad, librispeech, nsynth, release, textqa, vocalsound

    return {a.name: a for a in (release.ADAPTER, librispeech.ADAPTER, nsynth.ADAPTER, vocalsound.ADAPTER,
                                cremad.ADAPTER, textqa.ADAPTER)}


ADAPTERS: dict[str, Adapter] = _registry()


def get_adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, ADAPTERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise BuildError(f"unknown adapter {name!r}.{hint} Known: {', '.join(ADAPTERS)}") from None


__all__ = ["ADAPTERS", "Adapter", "AdapterContext", "get_adapter"]
