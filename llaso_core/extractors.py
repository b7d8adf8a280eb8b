"""Registered extractors: ``fn(text, label_set) -> answer | None`` (None = nothing usable).

They give the per-sample ``extracted`` value of result files and evaluation; the metrics use
the same parsing functions from ``llaso_core.metrics.extract``.
"""

from __future__ import annotations

from typing import Any

from llaso_core.metrics.extract import parse_number_strict, parse_pssl, strict_label
from llaso_core.specs import LabelSet


def text(answer: str, label_set: LabelSet) -> str | None:
    """The answer as generated, whitespace trimmed; None when empty."""
    return answer.strip() or None


def label(answer: str, label_set: LabelSet) -> str | None:
    """The single closed-set label the answer names (None for none or several)."""
    return strict_label(answer, label_set.labels)


def number(answer: str, label_set: LabelSet) -> float | None:
    """A single number (or the midpoint of one range) inside the label set's value range."""
    value = parse_number_strict(answer)
    if value is None or label_set.value_range is None:
        return value
    low, high = label_set.value_range
    return value if low <= value <= high else None


def pronunciation_scores(answer: str, label_set: LabelSet) -> dict[str, Any] | None:
    """``{"accuracy": n, "prosodic": n, "fluency": n}`` when all three are stated."""
    return parse_pssl(answer)
