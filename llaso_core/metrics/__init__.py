"""Pure metric functions with two protocols (``paper`` and ``strict``, docs/metrics.md).

Every entry of ``METRICS`` has the signature
``fn(predictions, references, *, protocol, labels=None, **options) -> MetricResult``.
``METRICS`` is built on first access so that importing the package (e.g. for ``Protocol``) does
not import jiwer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import MetricResult, Protocol, SampleScore

__all__ = ["METRICS", "MetricResult", "Protocol", "SampleScore"]


def __getattr__(name: str) -> Any:
    if name != "METRICS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .classification import abstention, accuracy
    from .error_rate import cer, wer
    from .judge_score import judge
    from .numeric import mae
    from .phoneme import per
    from .pronunciation import pssl_accuracy

    metrics: dict[str, Callable[..., MetricResult]] = {
        "wer": wer, "cer": cer, "per": per, "acc": accuracy, "abstention": abstention,
        "mae": mae, "pssl_acc": pssl_accuracy, "judge": judge,
    }
    globals()["METRICS"] = metrics
    return metrics
