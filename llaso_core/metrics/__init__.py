"""Pure metric functions with two protocols (``paper`` and ``strict``, DESIGN.md section 6).

Every entry of ``METRICS`` has the signature
``fn(predictions, references, *, protocol, labels=None, **options) -> MetricResult``.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import MetricResult, Protocol, SampleScore
from .classification import abstention, accuracy
from .error_rate import cer, wer
from .judge_score import judge
from .numeric import mae
from .phoneme import per
from .pronunciation import pssl_accuracy

__all__ = ["METRICS", "MetricResult", "Protocol", "SampleScore"]

METRICS: dict[str, Callable[..., MetricResult]] = {
    "wer": wer,
    "cer": cer,
    "per": per,
    "acc": accuracy,
    "abstention": abstention,
    "mae": mae,
    "pssl_acc": pssl_accuracy,
    "judge": judge,
}
