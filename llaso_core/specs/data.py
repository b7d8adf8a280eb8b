"""Specs of a task's data makers: a mini-corpus recipe per task, a raw-corpus adapter per corpus.

Both hold a lazy ``"module:attr"`` reference, like the other components: registering one imports
nothing heavy.
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from llaso_core.specs.base import as_tuple, fail, file_stem, identifier, tuple_of
from llaso_core.specs.components import _Component

DEFAULT_MODALITY_WEIGHTS = {"ta": 0.7, "pa": 0.3, "at": 0.3}
OTHER_MODALITY_WEIGHT = 0.3  #: share of a modality the weights do not name


def _weights(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, Mapping) or not value:
        fail(instance, attribute.name, f"must be a non-empty mapping of modality id -> weight, got {value!r}")
    for key, weight in value.items():
        identifier(instance, attribute, key)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            fail(instance, attribute.name, f"weight of {key!r} must be a positive number, got {weight!r}")


def _stems(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, Mapping):
        fail(instance, attribute.name, f"must be a mapping of task id -> release stem, got {value!r}")
    for task, stem in value.items():
        identifier(instance, attribute, task)
        file_stem(instance, attribute, stem)


def _task_ids(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    tuple_of(str, non_empty=True, unique=True)(instance, attribute, value)
    for task in value:
        identifier(instance, attribute, task)


@attrs.frozen
class RecipeSpec(_Component):
    """How ``llaso data synth`` makes the samples of task ``id``: ``factory`` names a generator
    ``(Context) -> Item`` (:mod:`llaso_core.data.synth.recipe`); ``modality_weights`` share the
    task's samples over its modalities (normalised; a modality not named gets 0.3)."""

    modality_weights: Mapping[str, float] = attrs.field(factory=lambda: dict(DEFAULT_MODALITY_WEIGHTS),
                                                        validator=_weights)

    def weight(self, modality: str) -> float:
        return float(self.modality_weights.get(modality, OTHER_MODALITY_WEIGHT))


@attrs.frozen
class AdapterSpec(_Component):
    """A raw-corpus layout ``llaso data build`` reads: ``factory`` names
    ``iter_items(AdapterContext) -> Iterator[RawItem | Skipped]`` (:mod:`llaso_core.data.build`).
    ``tasks`` are the task ids it can produce (None: whatever the input holds), ``sources`` the
    release stem each task's samples are filed under by default, ``options`` the keys a build
    spec may pass it."""

    tasks: tuple[str, ...] | None = attrs.field(default=None, converter=as_tuple, validator=_task_ids)
    sources: Mapping[str, str] = attrs.field(factory=dict, validator=_stems)
    options: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=tuple_of(str, unique=True))

    def __attrs_post_init__(self) -> None:
        if self.tasks is not None and set(self.sources) - set(self.tasks):
            fail(self, "sources", f"stems for tasks it does not produce: {sorted(set(self.sources) - set(self.tasks))}")
