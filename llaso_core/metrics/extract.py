"""Pure extractors that read an answer (label, number, scores) out of a model's text.

Two families: ``paper_*`` reproduce the released LLaSO scripts (quirks included, see
``shared/research/llaso-official-code.md`` section 4); the others implement the ``strict``
protocol. Nothing here aggregates; the metric modules do.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

__all__ = [
    "BOUNDARY_TEMPLATE",
    "PSSL_ASPECTS",
    "abstention_hits",
    "normalize_label_text",
    "paper_abstention_label",
    "paper_clean",
    "paper_is_correct",
    "parse_age_paper",
    "parse_judge_score",
    "parse_number_strict",
    "parse_pitch_paper",
    "parse_pssl",
    "parse_pssl_paper",
    "strict_label",
    "strict_label_hits",
]

# Word-boundary pattern of the released abstention script: the label may not be glued to
# another ASCII letter or digit on either side.
BOUNDARY_TEMPLATE = r"(?<![a-z0-9]){}(?![a-z0-9])"


# --------------------------------------------------------------------------- closed labels


def paper_clean(text: str) -> str:
    """``accuracy.py`` normalisation: every '.' removed, then lowercased (nothing else)."""
    return text.replace(".", "").lower()


def paper_is_correct(prediction: str, label: str, labels: Iterable[str]) -> bool:
    """``accuracy.py`` rule on cleaned strings: equal to ``label``, or contains ``label`` as a
    substring and no other label of ``labels`` as a substring."""
    if prediction == label:
        return True
    if label not in prediction:
        return False
    return not any(other != label and other in prediction for other in labels)


def paper_abstention_label(text: str) -> str:
    """``abstention_rate_cal.py`` label normalisation: lower(), rstrip('. '), strip()."""
    return text.lower().rstrip(". ").strip()


@lru_cache(maxsize=4096)
def _boundary_regex(label: str) -> re.Pattern[str]:
    return re.compile(BOUNDARY_TEMPLATE.format(re.escape(label)), re.IGNORECASE)


def abstention_hits(prediction: str, labels: Sequence[str]) -> list[str]:
    """Labels (already normalised) found in ``prediction.lower()`` with the boundary regex,
    each counted once, overlaps included (the released script's counting)."""
    text = prediction.lower()
    return [label for label in labels if _boundary_regex(label).search(text)]


_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalize_label_text(text: str) -> str:
    """Strict label normalisation: NFKC, lowercase, every run of punctuation, symbols or
    whitespace becomes one space, trimmed ("South Africa." -> "south africa",
    "15-19" -> "15 19")."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NON_ALNUM.sub(" ", text).strip()


def strict_label_hits(prediction: str, labels: Sequence[str]) -> list[str]:
    """Distinct labels named in ``prediction``, longest first, ignoring a match that lies
    inside the span of a longer label's match ("northern irish" does not also count as
    "irish"). Returns the original label strings in order of length."""
    text = normalize_label_text(prediction)
    if not text:
        return []
    keyed = sorted(
        {normalize_label_text(label): label for label in labels}.items(),
        key=lambda kv: (-len(kv[0]), kv[0]),
    )
    claimed: list[tuple[int, int]] = []
    found: list[str] = []
    for norm, original in keyed:
        if not norm:
            continue
        hit = False
        for match in _boundary_regex(norm).finditer(text):
            start, end = match.span()
            if any(start < c_end and c_start < end for c_start, c_end in claimed):
                continue
            claimed.append((start, end))
            hit = True
        if hit:
            found.append(original)
    return found


def strict_label(prediction: str, labels: Sequence[str]) -> str | None:
    """The single label named in ``prediction`` (see ``strict_label_hits``), or ``None`` when
    it names none or several (an abstention)."""
    hits = strict_label_hits(prediction, labels)
    return hits[0] if len(hits) == 1 else None


# --------------------------------------------------------------------------- numbers

_PITCH_NUMBER = re.compile(r"\d+\.?\d*")
_AGE_NUMBER = re.compile(r"\d+")


def parse_pitch_paper(text: str) -> float | None:
    """``pitch_L1.py``'s ``parse_pitch_value``: ``int()``, then ``int(round(float()))``, then regex
    ``\\d+\\.?\\d*``: with a '-' and at least two numbers the rounded mean of the first two,
    otherwise the first number rounded. Every value is rounded to an integer (Python ``round``:
    half to even) before the difference is taken; ``None`` when nothing parses (or NaN/inf, which
    the script cannot round). No range check here."""
    try:
        return float(int(text))
    except (TypeError, ValueError):
        pass
    numbers = _PITCH_NUMBER.findall(text)
    try:
        value = float(text)
    except (TypeError, ValueError):
        if not numbers:
            return None
        if "-" in text and len(numbers) >= 2:
            value = (float(numbers[0]) + float(numbers[1])) / 2
        else:
            value = float(numbers[0])
    return float(round(value)) if math.isfinite(value) else None


def parse_age_paper(text: str) -> float | None:
    """``age_L1.py`` parser: ``int()``, then regex ``\\d+``; with a '-' and at least two
    numbers the rounded midpoint of the first two ("40-45" -> 42), else the first number;
    an answer containing "adult" and no number -> 22 (the released fixtures hold no "adult"
    answer, so that order is taken from the research note, not checked); ``None`` when
    nothing parses."""
    try:
        return float(int(text))
    except (TypeError, ValueError):
        pass
    numbers = _AGE_NUMBER.findall(text)
    if "-" in text and len(numbers) >= 2:
        return float(round((int(numbers[0]) + int(numbers[1])) / 2))
    if numbers:
        return float(numbers[0])
    if "adult" in text.lower():
        return 22.0
    return None


# A number standing on its own: not glued to a letter/digit/decimal point on either side.
_ALONE_BEFORE = r"(?<![\w.])"
_ALONE_AFTER = r"(?!\w|\.\d)"
_STRICT_NUMBER_RE = re.compile(_ALONE_BEFORE + r"[-+]?\d+(?:\.\d+)?" + _ALONE_AFTER)
_STRICT_RANGE_RE = re.compile(
    _ALONE_BEFORE + r"(\d+(?:\.\d+)?)\s*(?:-|–|—|\bto\b)\s*(\d+(?:\.\d+)?)" + _ALONE_AFTER,
    re.IGNORECASE,
)


def parse_number_strict(text: str) -> float | None:
    """Strict numeric reader: the one number the answer states, or the midpoint of one
    explicit range ("40-45", "40 to 45" -> 42.5, not rounded). ``None`` when the answer has
    no number, or several different numbers that are not one range (ambiguous). A number
    glued to letters ("C4", "40s", "5th") does not count; words ("forty") are not read."""
    text = unicodedata.normalize("NFKC", text)
    ranges = _STRICT_RANGE_RE.findall(text)
    if len(ranges) == 1:
        rest = _STRICT_RANGE_RE.sub(" ", text)
        if not _STRICT_NUMBER_RE.search(rest):
            low, high = float(ranges[0][0]), float(ranges[0][1])
            return (low + high) / 2
        return None
    if ranges:
        return None
    values = {float(v) for v in _STRICT_NUMBER_RE.findall(text)}
    return values.pop() if len(values) == 1 else None


# --------------------------------------------------------------------------- PSSL, judge

PSSL_ASPECTS = ("accuracy", "proso", "fluency")
_PSSL_MAIN = re.compile(r"(accuracy|proso|fluency).*?(?:is|:|=|as).*?(\d+)")
_PSSL_FALLBACK = re.compile(r"(\d+)\s*?(?:for)\s*?(accuracy|proso|fluency)")


def parse_pssl(text: str) -> dict[str, int] | None:
    """``pronunciation_scoring.py`` parser over the lowercased text: regex
    ``(accuracy|proso|fluency).*?(?:is|:|=|as).*?(\\d+)``, then the fallback
    ``(\\d+)\\s*?(?:for)\\s*?(accuracy|proso|fluency)`` when fewer than three aspects were
    found; a later match of an aspect overwrites an earlier one (the script fills a dict in
    match order; first-wins gives 0.1776 instead of the released 0.1721 on Qwen2-Audio).
    ``None`` unless all three aspects are found."""
    low = text.lower()
    scores = {key: int(value) for key, value in _PSSL_MAIN.findall(low)}
    if len(scores) < 3:
        for value, key in _PSSL_FALLBACK.findall(low):
            scores[key] = int(value)
    if all(aspect in scores for aspect in PSSL_ASPECTS):
        return {aspect: scores[aspect] for aspect in PSSL_ASPECTS}
    return None


def parse_pssl_paper(text: str) -> dict[str, int] | None:
    """``pronunciation_scoring.py``'s ``extract_scores`` exactly: the main regex alone when it finds
    all three aspects, else the fallback regex alone (the two are not combined, unlike
    `parse_pssl`: "accuracy is 8, fluency is 9, 7 for prosodic" parses there, not here)."""
    low = text.lower()
    scores = {key: int(value) for key, value in _PSSL_MAIN.findall(low)}
    if len(scores) < 3:
        scores = {key: int(value) for value, key in _PSSL_FALLBACK.findall(low)}
    return scores if len(scores) == 3 else None


_JUDGE_SCORE_WHOLE = re.compile(r"Score:\s*(\d+)")
_JUDGE_SCORE = re.compile(r"Score:\s*(\d)")


def parse_judge_score(text: str | None, *, whole_number: bool = False) -> int | None:
    """First ``Score:\\s*(\\d)`` of a judge's evaluation text (the release's reading), or ``None``.

    ``whole_number=True`` reads every digit after ``Score:`` (so "Score: 10" is 10, not 1)."""
    if text is None:
        return None
    match = (_JUDGE_SCORE_WHOLE if whole_number else _JUDGE_SCORE).search(text)
    return int(match.group(1)) if match else None
