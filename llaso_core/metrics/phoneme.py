"""Phoneme error rate.

``paper`` reproduces ``assess_per_eval.py``: a TIMIT script applied to IPA text. Each string
is uppercased and reduced to its ASCII letters A-Z, each letter becomes 0-25, the TIMIT
61->39 ``IDX_MAPPING`` is applied to those integers (which merges unrelated letters), and
the per-utterance edit distance is divided by the length of the *model output* (the script's
"truth" is ``answer``); the value is the mean over utterances. ``strict`` segments the IPA
into phones and computes a corpus PER against the ground truth.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from rapidfuzz.distance import Levenshtein

from ._common import MISSING, answers_or_read, as_protocol, check_lengths, reject_options, safe_div
from .base import MetricResult, Protocol, SampleScore

__all__ = ["IDX_MAPPING", "TIMIT61", "paper_letter_sequence", "per", "segment_ipa"]

# The 61 TIMIT phones in the (alphabetical) order of the TIMIT recipe the script borrows.
TIMIT61: tuple[str, ...] = (
    "aa", "ae", "ah", "ao", "aw", "ax", "ax-h", "axr", "ay", "b", "bcl", "ch", "d", "dcl",
    "dh", "dx", "eh", "el", "em", "en", "eng", "epi", "er", "ey", "f", "g", "gcl", "h#",
    "hh", "hv", "ih", "ix", "iy", "jh", "k", "kcl", "l", "m", "n", "ng", "nx", "ow", "oy",
    "p", "pau", "pcl", "q", "r", "s", "sh", "t", "tcl", "th", "uh", "uw", "ux", "v", "w",
    "y", "z", "zh",
)  # fmt: skip

# Lee & Hon (1989) 61->39 folding, each group folded onto one member of the group. The
# representatives follow the released script as far as it is observable: "aa"->"ao" (A->D),
# "ah"/"ax-h"->"ax" (C, G->F), "axr"->"er" (H->W), closures/epi->"h#" (K, N, V->27),
# "el"/"em"/"en"/"eng"->"l"/"m"/"n"/"ng" (R, S, T, U->36-39). Only indices 0-25 can occur
# (letters), so the choice for the other groups cannot change a result.
_FOLD: dict[str, str] = {
    "aa": "ao", "ah": "ax", "ax-h": "ax", "axr": "er", "el": "l", "em": "m", "en": "n",
    "eng": "ng", "hv": "hh", "ix": "ih", "nx": "n", "ux": "uw", "zh": "sh",
    "bcl": "h#", "dcl": "h#", "gcl": "h#", "pcl": "h#", "tcl": "h#", "kcl": "h#",
    "epi": "h#", "pau": "h#", "q": "h#",
}  # fmt: skip
IDX_MAPPING: dict[int, int] = {TIMIT61.index(src): TIMIT61.index(dst) for src, dst in _FOLD.items()}

_LETTER_CODES: dict[int, int] = {
    ord(c): IDX_MAPPING.get(i, i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}


def paper_letter_sequence(text: str) -> list[int]:
    """``string_to_int_sequence`` + ``IDX_MAPPING``: uppercase, keep ASCII A-Z, map to ints."""
    codes = _LETTER_CODES
    return [codes[o] for o in map(ord, text.upper()) if o in codes]


# Suprasegmentals that are not phones: primary/secondary stress, syllable and group marks.
_DROP = frozenset("ˈˌ.|‖")
# Characters that attach to the preceding base character (besides combining marks).
_ATTACH = frozenset("ːˑ")
_TIE_BARS = frozenset("\u0361\u035c")


def segment_ipa(text: str) -> list[str]:
    """Split IPA text into phones: a base character plus the combining diacritics, length
    marks (ː ˑ) and modifier letters (ʰ ʲ ʷ ˞ ...) that follow it; a tie bar (t͡ʃ) joins the
    next base character into the same phone. Whitespace separates words and is not a phone;
    stress and syllable marks are dropped. Diphthongs written without a tie bar are two
    phones."""
    text = unicodedata.normalize("NFD", text)
    phones: list[str] = []
    join_next = False
    for ch in text:
        if ch.isspace() or ch in _DROP:
            join_next = False
            continue
        attaches = (
            ch in _ATTACH
            or unicodedata.combining(ch) != 0
            or unicodedata.category(ch) in ("Lm", "Sk", "Mn", "Me", "Mc")
        )
        if phones and (attaches or join_next):
            phones[-1] += ch
            join_next = ch in _TIE_BARS
        else:
            phones.append(ch)
            join_next = False
    return phones


def per(
    predictions: Sequence[str | None],
    references: Sequence[str],
    *,
    protocol: Protocol | str = Protocol.STRICT,
    labels: Sequence[str] | None = None,
    answers: Sequence[str | None] | None = None,
    **options: Any,
) -> MetricResult:
    """Phoneme error rate (see module docstring). A ``None`` prediction is invalid: dropped
    under ``paper``, an empty hypothesis (all deletions) under ``strict``, where the hypothesis
    is ``answers[i]`` (the task extractor's text) when given."""
    reject_options("per", options)
    n = check_lengths(predictions, references)
    proto = as_protocol(protocol)
    samples: list[SampleScore] = []
    n_invalid = 0
    if proto is Protocol.PAPER:
        rates: list[float] = []
        for pred, ref in zip(predictions, references, strict=True):
            if pred is None:
                n_invalid += 1
                samples.append(SampleScore(invalid=True, note=MISSING))
                continue
            truth = paper_letter_sequence(pred)  # the swap: the model output is the "truth"
            hyp = paper_letter_sequence(ref)
            if truth:
                rate = Levenshtein.distance(hyp, truth) / len(truth)
            else:
                rate = 0.0 if not hyp else 1.0
            rates.append(rate)
            samples.append(SampleScore(value=rate, extracted={"truth_len": len(truth)}))
        return MetricResult(
            name="per",
            value=safe_div(sum(rates), len(rates)),
            n=n,
            n_invalid=n_invalid,
            n_used=len(rates),
            higher_is_better=False,
            protocol=proto,
            unit="fraction",
            samples=tuple(samples),
            extra={"unit_of_comparison": "timit-folded ASCII letters", "averaging": "utterance"},
        )
    total_errors = total_len = 0
    texts = answers_or_read(predictions, answers, str)
    for pred, ref, text in zip(predictions, references, texts, strict=True):
        ref_phones = segment_ipa(ref)
        hyp_phones = segment_ipa(str(text)) if text is not None else []
        errors = Levenshtein.distance(ref_phones, hyp_phones)
        total_errors += errors
        total_len += len(ref_phones)
        invalid = pred is None
        n_invalid += invalid
        samples.append(
            SampleScore(
                value=safe_div(errors, len(ref_phones)),
                extracted={"errors": errors, "ref_len": len(ref_phones)},
                invalid=invalid,
                note=MISSING if invalid else None,
            )
        )
    return MetricResult(
        name="per",
        value=safe_div(total_errors, total_len),
        n=n,
        n_invalid=n_invalid,
        n_used=n,
        higher_is_better=False,
        protocol=proto,
        unit="fraction",
        samples=tuple(samples),
        extra={
            "unit_of_comparison": "ipa-phone",
            "averaging": "corpus",
            "errors": total_errors,
            "ref_len": total_len,
        },
    )
