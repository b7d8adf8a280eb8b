"""What a raw-corpus adapter works with. A plugin registers an
:class:`~llaso_core.specs.AdapterSpec` per corpus layout (``llaso_register_adapters``) whose
``factory`` names ``iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped | Note]``
(:mod:`.items`); the builder calls it once per input of a build spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import attrs

from llaso_core.specs import AdapterSpec

from .items import RawItem, Skipped, Target


@attrs.frozen
class AdapterContext:
    """What an adapter is given: its own ``adapter`` spec, the input ``path``, the wanted ``tasks``,
    the stem overrides (``sources``: task id -> stem), the adapter's ``options``, the plugin
    ``host``, and the input's ``name``."""

    adapter: AdapterSpec
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
