"""Mean LLM-judge score (1-5) from the judge's raw evaluation texts.

``predictions`` are the judge outputs (``None`` when the judge call failed or is missing);
``references`` are not used (they may be empty, or must pair up). A missing or unparseable
evaluation is a failure: counted in ``n_invalid`` and left out of the mean, never scored 0.
``paper`` takes the first ``Score:\\s*(\\d)`` as the released outputs are parsed; ``strict``
also rejects a digit outside 1-5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._common import MISSING, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore
from .extract import parse_judge_score

__all__ = ["judge"]

SCORE_RANGE = (1, 5)


def judge(
    predictions: Sequence[str | None],
    references: Sequence[str] = (),
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    failures: Sequence[str | None] | None = None,
    **options: Any,
) -> MetricResult:
    """Mean parsed judge score over the evaluations that parse. ``failures[i]`` says why sample
    ``i`` has no evaluation (e.g. "judge API failure: ..."); without it the note is "missing
    prediction"."""
    reject_options("judge", options)
    if len(references):
        check_lengths(predictions, references)
    proto = as_protocol(protocol)
    low, high = SCORE_RANGE
    samples: list[SampleScore] = []
    scores: list[int] = []
    for i, text in enumerate(predictions):
        score = parse_judge_score(text, whole_number=proto is Protocol.STRICT)
        if text is None:
            samples.append(SampleScore(invalid=True, note=(failures[i] if failures else None) or MISSING))
        elif score is None:
            samples.append(SampleScore(invalid=True, note="no score"))
        elif proto is Protocol.STRICT and not low <= score <= high:
            samples.append(SampleScore(extracted=score, invalid=True, note="score out of range"))
        else:
            scores.append(score)
            samples.append(SampleScore(value=float(score), extracted=score))
    n = len(predictions)
    return MetricResult(
        name="judge",
        value=safe_div(sum(scores), len(scores)),
        n=n,
        n_invalid=n - len(scores),
        n_used=len(scores),
        higher_is_better=True,
        protocol=proto,
        unit="score",
        samples=tuple(samples),
        extra={"scale": [low, high], "coverage": safe_div(len(scores), n)},
    )
