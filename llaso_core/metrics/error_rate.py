"""Corpus-level word and character error rates (jiwer 4).

``paper``: what ``assess_wer_cer.py`` computes through HF ``evaluate`` - no normalisation,
and the ground truth passed as *hypothesis* and the model output as *reference* (so the
denominator is the model output's length). ``strict``: ground truth as reference, both sides
normalised with ``basic-en@1`` (``normalize.py``). Both are sum(S+D+I) / sum(reference length).
A ``None`` prediction is invalid: dropped under ``paper``, scored as an empty hypothesis
(all deletions) under ``strict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jiwer
from rapidfuzz.distance import Levenshtein

from ._common import MISSING, answers_or_read, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore
from .normalize import BASIC_EN, basic_en

__all__ = ["cer", "wer"]

# HF evaluate's cer.py transform (RemoveMultipleSpaces, Strip, ReduceToSingleSentence(""),
# ReduceToListOfListOfChars) applied to one pair at a time; ReduceToSingleSentence is a
# no-op on a single sentence and would merge the whole corpus in a batched call, so it is
# left out here. The last step, splitting into characters, is left to rapidfuzz: the edit
# distance of two strings is that of their character lists, and a string's length is theirs
# (jiwer's per-character Python loop was a third of `llaso score`'s metric time).
_PAPER_CER = jiwer.Compose([jiwer.RemoveMultipleSpaces(), jiwer.Strip()])
_PAPER_WER = jiwer.wer_default  # what evaluate's wer.py uses through compute_measures
# basic-en@1 output is already trimmed with single spaces: only the tokenisation remains.
_STRICT_WER = jiwer.Compose([jiwer.ReduceToListOfListOfWords()])
_STRICT_CER = jiwer.Compose([])  # characters: the strings themselves (see above)


def _edit_counts(
    references: list[str], hypotheses: list[str], transform: jiwer.Compose
) -> list[tuple[int, int]]:
    """(S+D+I, reference length) per pair: jiwer's transform, then the unit-cost Levenshtein
    distance of rapidfuzz (the engine ``jiwer.process_words`` aligns with; its S+D+I is this
    distance). Skipping jiwer's per-operation alignment objects makes this ~4x faster."""
    if not references:
        return []
    ref_tokens = transform(references)
    hyp_tokens = transform(hypotheses)
    distance = Levenshtein.distance
    return [(distance(r, h), len(r)) for r, h in zip(ref_tokens, hyp_tokens, strict=True)]


def _error_rate(
    name: str,
    predictions: Sequence[str | None],
    references: Sequence[str],
    protocol: Protocol | str,
    paper_transform: jiwer.Compose,
    strict_transform: jiwer.Compose,
    answers: Sequence[Any] | None,
) -> MetricResult:
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    missing = [p is None for p in predictions]
    if proto is Protocol.PAPER:
        used = [i for i in range(n) if not missing[i]]
        # The swap: the model output is jiwer's reference, the ground truth its hypothesis.
        refs = [predictions[i] for i in used]
        hyps = [references[i] for i in used]
        transform = paper_transform
        extra: dict[str, Any] = {"normalizer": "none", "reference_side": "prediction"}
    else:
        used = list(range(n))
        refs = [basic_en(references[i]) for i in used]
        texts = answers_or_read(predictions, answers, str)
        hyps = [basic_en(str(texts[i] or "")) for i in used]
        transform = strict_transform
        extra = {"normalizer": BASIC_EN, "reference_side": "ground_truth"}
    counts = dict(zip(used, _edit_counts(refs, hyps, transform), strict=True))
    samples = []
    for i in range(n):
        if i not in counts:
            samples.append(SampleScore(invalid=True, note=MISSING))
            continue
        errors, ref_len = counts[i]
        samples.append(
            SampleScore(
                value=safe_div(errors, ref_len),
                extracted={"errors": errors, "ref_len": ref_len},
                invalid=missing[i],
                note=MISSING if missing[i] else None,
            )
        )
    total_errors = sum(e for e, _ in counts.values())
    total_len = sum(r for _, r in counts.values())
    extra.update(errors=total_errors, ref_len=total_len)
    return MetricResult(
        name=name,
        value=safe_div(total_errors, total_len),
        n=n,
        n_invalid=sum(missing),
        n_used=len(used),
        higher_is_better=False,
        protocol=proto,
        unit="fraction",
        samples=tuple(samples),
        extra=extra,
    )


def wer(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[str | None] | None = None,
    **options: Any,
) -> MetricResult:
    """Corpus word error rate; ``value`` is ``None`` when the references have no words.
    Under ``strict`` the hypothesis is ``answers[i]`` (the task extractor's text) when given."""
    reject_options("wer", options)
    return _error_rate("wer", predictions, references, protocol, _PAPER_WER, _STRICT_WER, answers)


def cer(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[str | None] | None = None,
    **options: Any,
) -> MetricResult:
    """Corpus character error rate (spaces count as characters, as in jiwer/evaluate).
    Under ``strict`` the hypothesis is ``answers[i]`` (the task extractor's text) when given."""
    reject_options("cer", options)
    return _error_rate("cer", predictions, references, protocol, _PAPER_CER, _STRICT_CER, answers)
