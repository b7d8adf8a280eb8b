"""Small helpers shared by the metric functions (argument checking, protocol coercion)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .base import Protocol

MISSING = "missing prediction"


def as_protocol(protocol: Protocol | str) -> Protocol:
    """Accept ``Protocol`` members or their string values ("paper", "strict")."""
    return protocol if isinstance(protocol, Protocol) else Protocol(protocol)


def check_lengths(predictions: Sequence[object], references: Sequence[object]) -> int:
    """Raise ``ValueError`` unless both sequences have the same length; return it."""
    if len(predictions) != len(references):
        raise ValueError(
            f"{len(predictions)} predictions but {len(references)} references; they must pair up"
        )
    return len(predictions)


def safe_div(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is 0."""
    return numerator / denominator if denominator else None


def answers_or_read(predictions: Sequence[str | None], answers: Sequence[Any] | None,
                    read: Callable[[str], Any]) -> list[Any]:
    """Each sample's answer under ``strict``: the task extractor's (``answers``, as ``llaso score``
    passes them) when given, else ``read(prediction)``; ``None`` for a missing prediction."""
    if answers is None:
        return [None if p is None else read(p) for p in predictions]
    check_lengths(predictions, answers)
    return [None if p is None else a for p, a in zip(predictions, answers)]


def reject_options(name: str, options: dict[str, object], allowed: tuple[str, ...] = ()) -> None:
    """Raise ``TypeError`` for an option the metric does not know (catches typos)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"metric {name!r} got unknown option(s): {', '.join(unknown)}")
