"""A sample's target as its task reads it: the task's own extractor applied to the reference answer,
as to a prediction ("The speaker is female." is ``female``). Used by the listen stage (classes) and
``llaso data inspect`` (targets that name no label of their set)."""

from __future__ import annotations

from typing import Any

import attrs

from llaso_core.data.sample import Sample
from llaso_core.specs import LabelSet


@attrs.frozen
class Reading:
    """The label set the sample is answered from, and what its extractor read (None: nothing)."""

    label_set: LabelSet
    value: Any

    @property
    def valid(self) -> bool:
        """A label of the closed set, or a number inside the numeric set's range (open sets: any answer)."""
        if self.label_set.kind == "closed":
            return self.value in self.label_set.labels
        if self.label_set.kind == "numeric":
            low, high = self.label_set.value_range  # type: ignore[misc]
            value = self.value
            return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high
        return self.value is not None


def read_target(sample: Sample, host: Any) -> Reading | None:
    """The sample's target read with its task's extractor; None for a task nobody registered or an
    extractor that fails on it."""
    try:
        task = host.tasks.get(sample.task)
        source = next((s for s in task.sources if s.stem == sample.source), None)
        label_set = task.label_set(source.label_set if source is not None else None)
        if label_set.kind == "open":
            return Reading(label_set, sample.target)
        extract = host.extractors.get(task.extractor_for(source) if source else task.extractor).load()
        return Reading(label_set, extract(sample.target, label_set))
    except Exception:  # noqa: BLE001 - an unknown task or a broken third-party extractor
        return None
