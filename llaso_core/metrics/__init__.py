"""Pure metric functions with two protocols (``paper`` and ``strict``, ``docs/metrics.md``).

``BUILTIN_METRICS`` is the one declaration of the built-in metrics (name, function, direction,
unit); the ``scoring`` plugin registers it, and ``METRICS`` maps each name to its function. Every
function has the signature
``fn(predictions, references, *, protocol, labels=None, answers=None, **options) -> MetricResult``.
``METRICS`` is built on first access so that importing the package (e.g. for ``Protocol``) does
not import jiwer.
"""

from __future__ import annotations

from typing import Any

from llaso_core.specs.components import MetricSpec

from .base import MetricResult, Protocol, SampleScore

__all__ = ["BUILTIN_METRICS", "METRICS", "MetricResult", "Protocol", "SampleScore"]

_M = "llaso_core.metrics"

BUILTIN_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("wer", f"{_M}.error_rate:wer", "word error rate, corpus level (jiwer)", higher_is_better=False),
    MetricSpec("cer", f"{_M}.error_rate:cer", "character error rate, corpus level (jiwer)",
               higher_is_better=False),
    MetricSpec("per", f"{_M}.phoneme:per", "phoneme error rate", higher_is_better=False),
    MetricSpec("acc", f"{_M}.classification:accuracy", "closed-set accuracy"),
    MetricSpec("abstention", f"{_M}.classification:abstention",
               "share of closed-set answers naming no label or several", higher_is_better=False),
    MetricSpec("mae", f"{_M}.numeric:mae", "mean absolute error of a numeric answer",
               higher_is_better=False, unit="count"),
    MetricSpec("pssl_acc", f"{_M}.pronunciation:pssl_accuracy",
               "exact-match accuracy of the accuracy/prosodic/fluency scores"),
    MetricSpec("judge", f"{_M}.judge_score:judge", "mean LLM-judge score, 1-5", unit="score"),
)


def __getattr__(name: str) -> Any:
    if name != "METRICS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    metrics = {spec.id: spec.load() for spec in BUILTIN_METRICS}
    globals()["METRICS"] = metrics
    return metrics
