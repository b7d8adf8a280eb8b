"""Aggregate judgments into a mean score that says what it left out."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .types import Judgment


@attrs.frozen
class JudgeSummary:
    """Mean of the ok scores (``None`` if there are none) and the count of every status."""

    mean: float | None
    n: int
    n_ok: int
    n_parse_error: int
    n_api_error: int
    n_missing: int


def summarize(judgments: Iterable[Judgment]) -> JudgeSummary:
    """Mean judge score over ok judgments; failures are counted, never scored 0."""
    judgments = list(judgments)
    scores = [j.score for j in judgments if j.ok and j.score is not None]
    count = {s: sum(j.status == s for j in judgments) for s in ("parse_error", "api_error", "missing")}
    return JudgeSummary(
        mean=sum(scores) / len(scores) if scores else None,
        n=len(judgments),
        n_ok=len(scores),
        n_parse_error=count["parse_error"],
        n_api_error=count["api_error"],
        n_missing=count["missing"],
    )
