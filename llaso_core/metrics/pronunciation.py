"""Sentence-level pronunciation scoring accuracy (PSSL-ACC).

Both protocols read accuracy / prosodic / fluency with the released regexes and score exact
integer agreement per aspect, averaged over the three aspects and then over samples; the total
score is ignored. ``paper`` parses as ``pronunciation_scoring.py`` (``extract.parse_pssl_paper``),
``strict`` with ``extract.parse_pssl`` (the two regexes combined) or the task extractor's answers.

``paper``: only samples where all three aspects parse in both the reference and the
prediction count (``n_used``); the others are dropped, and the value is 0 when none is left (as
the script reports it). ``strict``: samples whose reference
parses are all scored; a prediction that is missing or does not give all three aspects scores
0 and is counted in ``n_invalid``; ``extra["value_parsed_only"]`` is the ``paper``-style mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._common import MISSING, answers_or_read, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore
from .extract import PSSL_ASPECTS, parse_pssl, parse_pssl_paper

__all__ = ["pssl_accuracy"]


def pssl_accuracy(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[Any] | None = None,
    **options: Any,
) -> MetricResult:
    """Mean per-aspect exact-match rate of the three pronunciation scores. Under ``strict``,
    ``answers`` (the task extractor's score dicts, ``None`` = not all three) replace the
    built-in parsing of the predictions."""
    reject_options("pssl_acc", options)
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    parse = parse_pssl_paper if proto is Protocol.PAPER else parse_pssl
    guesses = answers_or_read(predictions, answers if proto is Protocol.STRICT else None, parse)
    samples: list[SampleScore] = []
    parsed_only: list[float] = []
    scored: list[float] = []
    bad_references = 0
    for pred, ref, guess in zip(predictions, references, guesses, strict=True):
        truth = parse(ref)
        if truth is None:
            bad_references += 1
            samples.append(SampleScore(extracted=guess, invalid=True, note="reference not parsed"))
            continue
        if guess is None:
            note = MISSING if pred is None else "aspects not parsed"
            if proto is Protocol.STRICT:
                scored.append(0.0)
                samples.append(SampleScore(value=0.0, invalid=True, note=note))
            else:
                samples.append(SampleScore(invalid=True, note=note))
            continue
        agreement = sum(guess.get(a) == truth[a] for a in PSSL_ASPECTS) / len(PSSL_ASPECTS)
        parsed_only.append(agreement)
        scored.append(agreement)
        samples.append(SampleScore(value=agreement, extracted=guess))
    used = parsed_only if proto is Protocol.PAPER else scored
    value = safe_div(sum(used), len(used))
    if value is None and proto is Protocol.PAPER:
        value = 0.0  # pronunciation_scoring.py: "... / total if total > 0 else 0"
    extra: dict[str, Any] = {"aspects": list(PSSL_ASPECTS), "bad_references": bad_references}
    if proto is Protocol.STRICT:
        extra["value_parsed_only"] = safe_div(sum(parsed_only), len(parsed_only))
    return MetricResult(
        name="pssl_acc",
        value=value,
        n=n,
        n_invalid=sum(s.invalid for s in samples),
        n_used=len(used),
        higher_is_better=True,
        protocol=proto,
        unit="fraction",
        samples=tuple(samples),
        extra=extra,
    )
