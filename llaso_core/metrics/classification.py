"""Closed-set accuracy and abstention rate.

``paper`` reproduces ``accuracy.py`` and ``abstention_rate_cal.py``: the label set is the
file's own ground-truth strings (``labels`` is ignored), accuracy uses substring matching
and abstention (0 or >= 2 labels matched with a word-boundary regex) is computed separately.
``strict`` uses the declared ``labels`` (or the references' unique values), extracts at
most one label per answer preferring the longest match, and scores an abstention as wrong.
A ``None`` prediction is wrong, invalid and an abstention under both protocols.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._common import MISSING, answers_or_read, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore
from .extract import (
    abstention_hits,
    normalize_label_text,
    paper_abstention_label,
    paper_clean,
    paper_is_correct,
    strict_label_hits,
)

__all__ = ["abstention", "accuracy"]

ABSTAINED = "no single label"


def _strict_labels(labels: Sequence[str] | None, references: Sequence[str]) -> list[str]:
    source = labels if labels is not None else references
    seen: dict[str, str] = {}
    for label in source:
        seen.setdefault(normalize_label_text(label), label)
    return [label for norm, label in seen.items() if norm]


def accuracy(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[Any] | None = None,
    **options: Any,
) -> MetricResult:
    """Share of correct answers over all ``n`` samples. Under ``strict``, ``answers`` (the task
    extractor's labels, ``None`` = no single label) replace the built-in label matching."""
    reject_options("acc", options)
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    samples: list[SampleScore] = []
    extra: dict[str, Any]
    if proto is Protocol.PAPER:
        label_set = {paper_clean(ref) for ref in references}
        for pred, ref in zip(predictions, references, strict=True):
            if pred is None:
                samples.append(SampleScore(value=0.0, invalid=True, note=MISSING))
                continue
            cleaned = paper_clean(pred)
            ok = paper_is_correct(cleaned, paper_clean(ref), label_set)
            samples.append(SampleScore(value=float(ok), extracted=cleaned))
        extra = {"labels": sorted(label_set), "rule": "substring"}
    else:
        declared = _strict_labels(labels, references)
        norm_labels = {normalize_label_text(label) for label in declared}
        outside = sum(normalize_label_text(ref) not in norm_labels for ref in references)
        chosen = answers_or_read(predictions, answers, lambda p: strict_label_hits(p, declared))
        for pred, ref, answer in zip(predictions, references, chosen, strict=True):
            if pred is None:
                samples.append(SampleScore(value=0.0, invalid=True, note=MISSING))
                continue
            note, hits = ABSTAINED, None
            if answers is None:  # the built-in matching: exactly one label named
                hits = answer
                answer = hits[0] if len(hits) == 1 else None
                note = f"{ABSTAINED} ({len(hits)} matched)"
            if answer is None:
                samples.append(SampleScore(value=0.0, extracted=hits or None, invalid=True, note=note))
                continue
            ok = normalize_label_text(str(answer)) == normalize_label_text(ref)
            samples.append(SampleScore(value=float(ok), extracted=answer))
        extra = {
            "labels": declared,
            "rule": "extractor" if answers is not None else "longest-boundary-match",
            "references_outside_labels": outside,
        }
    correct = sum(s.value or 0.0 for s in samples)
    return MetricResult(
        name="acc",
        value=safe_div(correct, n),
        n=n,
        n_invalid=sum(s.invalid for s in samples),
        n_used=n,
        higher_is_better=True,
        protocol=proto,
        unit="fraction",
        samples=tuple(samples),
        extra=extra,
    )


def abstention(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[Any] | None = None,
    **options: Any,
) -> MetricResult:
    """Share of answers that name no label or several labels (lower is better).
    ``n_invalid`` counts missing predictions only (they also count as abstentions). Under
    ``strict``, ``answers`` (the task extractor's) decide: ``None`` is an abstention."""
    reject_options("abstention", options)
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    if proto is Protocol.PAPER:
        label_list = sorted({paper_abstention_label(ref) for ref in references})

        def hits_of(pred: str) -> list[str]:
            return abstention_hits(pred, label_list)

    else:
        label_list = _strict_labels(labels, references)

        def hits_of(pred: str) -> list[str]:
            return strict_label_hits(pred, label_list)

    samples: list[SampleScore] = []
    from_extractor = proto is Protocol.STRICT and answers is not None
    chosen = answers_or_read(predictions, answers if from_extractor else None, hits_of)
    for pred, answer in zip(predictions, chosen, strict=True):
        if pred is None:
            samples.append(SampleScore(value=1.0, invalid=True, note=MISSING))
            continue
        if from_extractor:
            abstained, note = answer is None, ABSTAINED
        else:
            abstained, note = len(answer) != 1, f"{ABSTAINED} ({len(answer)} matched)"
        samples.append(SampleScore(value=float(abstained), extracted=answer, note=note if abstained else None))
    return MetricResult(
        name="abstention",
        value=safe_div(sum(s.value or 0.0 for s in samples), n),
        n=n,
        n_invalid=sum(s.invalid for s in samples),
        n_used=n,
        higher_is_better=False,
        protocol=proto,
        unit="fraction",
        samples=tuple(samples),
        extra={"labels": label_list},
    )
