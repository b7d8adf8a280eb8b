"""Types shared by every metric: what a metric returns and which protocol produced it."""

from __future__ import annotations

from enum import Enum
from typing import Any

import attrs


class Protocol(str, Enum):
    """How a metric treats the quirks of the released LLaSO scripts (docs/metrics.md)."""

    PAPER = "paper"  # reproduces the released scripts' numbers, quirks included
    STRICT = "strict"  # the corrected version (default)


@attrs.frozen
class SampleScore:
    """One sample's contribution to a metric.

    ``value`` is the per-sample score (``None`` when the sample is invalid or only counts at
    corpus level), ``extracted`` what was read out of the prediction, ``invalid`` whether the
    answer could not be parsed / abstained, ``note`` a short reason when it is invalid.
    """

    value: float | None = None
    extracted: Any = None
    invalid: bool = False
    note: str | None = None


@attrs.frozen
class MetricResult:
    """A metric value with everything needed to trust it.

    ``n`` is the number of samples the metric was asked to score, ``n_invalid`` the number that
    could not be parsed or abstained (under ``paper`` these may be dropped from ``value``; under
    ``strict`` they count against it), ``n_used`` the number the value was computed on.
    """

    name: str
    value: float | None
    n: int
    n_invalid: int
    n_used: int
    higher_is_better: bool
    protocol: Protocol
    unit: str = "fraction"
    samples: tuple[SampleScore, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict)
