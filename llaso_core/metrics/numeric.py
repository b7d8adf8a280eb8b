"""Mean absolute error for numeric answers (pitch in MIDI semitones, age in years).

``paper`` reproduces ``pitch_L1.py`` (``parser="pitch"``: int/float/first-number parser,
sample kept only if both values lie in 0-127) and ``age_L1.py`` (``parser="age"``:
int/first-integer parser, "-" range midpoint, "adult" -> 22, no range check), both with the
prediction read from the right field; unparseable samples are dropped and the value is the
MAE over the rest (``n_used``), ``n_invalid`` = dropped.

``strict`` (chosen rule): one parser for both (``extract.parse_number_strict``: a single
number or one explicit range, else invalid), values outside the task's plausible range
(pitch 0-127, age 0-120) invalid. Invalid answers are never silently dropped: they are
counted in ``n_invalid``, the value is the MAE over the valid ones and
``extra["coverage"]`` = valid / n must be reported beside it (an MAE is not defined for a
missing number, and imputing one would invent a penalty). A reference that does not parse
is a data error: the sample is marked invalid with its own note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ._common import MISSING, answers_or_read, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore
from .extract import parse_age_paper, parse_number_strict, parse_pitch_paper

__all__ = ["PARSERS", "ParserSpec", "mae"]


class ParserSpec(NamedTuple):
    """How one kind of numeric answer is read and which values are plausible."""

    paper: Callable[[str], float | None]
    paper_range: tuple[float, float] | None
    strict_range: tuple[float, float]
    unit: str


PARSERS: dict[str, ParserSpec] = {
    "pitch": ParserSpec(parse_pitch_paper, (0.0, 127.0), (0.0, 127.0), "semitones"),
    "age": ParserSpec(parse_age_paper, None, (0.0, 120.0), "years"),
}


def _as_number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _in_range(value: float, bounds: tuple[float, float] | None) -> bool:
    return bounds is None or bounds[0] <= value <= bounds[1]


def mae(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    parser: str = "pitch",
    answers: Sequence[Any] | None = None,
    **options: Any,
) -> MetricResult:
    """MAE over the samples whose prediction and reference parse (see module docstring).
    ``parser`` ("pitch" or "age") picks the released parser and the plausible range. Under
    ``strict``, ``answers`` (the task extractor's numbers, ``None`` = no number) replace the
    built-in reading of the predictions."""
    reject_options("mae", options)
    if parser not in PARSERS:
        raise ValueError(f"unknown parser {parser!r}; expected one of {sorted(PARSERS)}")
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    spec = PARSERS[parser]
    if proto is Protocol.PAPER:
        parse, bounds = spec.paper, spec.paper_range
    else:
        parse, bounds = parse_number_strict, spec.strict_range
    guesses = answers_or_read(predictions, answers if proto is Protocol.STRICT else None, parse)
    samples: list[SampleScore] = []
    errors: list[float] = []
    bad_references = 0
    for pred, ref, guess in zip(predictions, references, guesses, strict=True):
        if pred is None:
            samples.append(SampleScore(invalid=True, note=MISSING))
            continue
        truth = parse(ref)
        guess = _as_number(guess)
        if truth is None or not _in_range(truth, bounds):
            bad_references += 1
            note = "reference not a valid number"
            samples.append(SampleScore(extracted=guess, invalid=True, note=note))
        elif guess is None:
            samples.append(SampleScore(invalid=True, note="no number"))
        elif not _in_range(guess, bounds):
            samples.append(SampleScore(extracted=guess, invalid=True, note="out of range"))
        else:
            error = abs(guess - truth)
            errors.append(error)
            samples.append(SampleScore(value=error, extracted=guess))
    n_used = len(errors)
    extra: dict[str, Any] = {"parser": parser, "range": bounds, "coverage": safe_div(n_used, n)}
    if bad_references:
        extra["bad_references"] = bad_references
    return MetricResult(
        name="mae",
        value=safe_div(sum(errors), n_used),
        n=n,
        n_invalid=n - n_used,
        n_used=n_used,
        higher_is_better=False,
        protocol=proto,
        unit=spec.unit,
        samples=tuple(samples),
        extra=extra,
    )
