"""PSSL accuracy and judge-score aggregation."""

from __future__ import annotations

import pytest

from llaso_core.metrics import Protocol
from llaso_core.metrics.judge_score import judge
from llaso_core.metrics.pronunciation import pssl_accuracy

PAPER, STRICT = Protocol.PAPER, Protocol.STRICT
REF = "Cat. For the sentence: accuracy is {}, prosodic is {}, fluency is {} total score is 8."


def test_pssl_exact_match_per_aspect_over_parsed_samples() -> None:
    predictions = [
        REF.format(8, 8, 8),
        "accuracy: 7, prosody: 9",  # fluency missing: not parsed
        "{'accuracy': 8, 'prosody': 9, 'fluency': 9}",
        None,
    ]
    references = [REF.format(*s) for s in [(8, 7, 8), (7, 9, 9), (8, 9, 7), (8, 8, 8)]]
    paper = pssl_accuracy(predictions, references, protocol=PAPER)
    assert paper.value == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert (paper.n, paper.n_used, paper.n_invalid) == (4, 2, 2)
    strict = pssl_accuracy(predictions, references, protocol=STRICT)
    assert strict.value == pytest.approx((2 / 3 + 0 + 2 / 3 + 0) / 4)
    assert strict.n_used == 4 and strict.n_invalid == 2
    assert strict.extra["value_parsed_only"] == pytest.approx(paper.value)


def test_pssl_unparseable_reference_is_excluded_in_both() -> None:
    for protocol in Protocol:
        result = pssl_accuracy([REF.format(1, 2, 3)], ["no scores here"], protocol=protocol)
        assert result.n_used == 0 and result.extra["bad_references"] == 1
        # pronunciation_scoring.py reports 0 when no sample parses ("... if total > 0 else 0")
        assert result.value == (0.0 if protocol is Protocol.PAPER else None)


def test_pssl_paper_is_zero_when_no_answer_parses() -> None:
    refs = [REF.format(1, 2, 3), REF.format(4, 5, 6)]
    paper = pssl_accuracy(["I cannot tell", None], refs, protocol=Protocol.PAPER)
    assert (paper.value, paper.n_used, paper.n_invalid) == (0.0, 0, 2)
    strict = pssl_accuracy(["I cannot tell", None], refs, protocol=Protocol.STRICT)
    assert (strict.value, strict.n_used, strict.n_invalid) == (0.0, 2, 2)


def test_judge_mean_ignores_failures_never_zero() -> None:
    texts = ["Score: 4\nExplanation: ok", "Score: 2", None, "I refuse", "Score: 9"]
    paper = judge(texts, protocol=PAPER)
    assert paper.value == pytest.approx((4 + 2 + 9) / 3)
    assert (paper.n, paper.n_used, paper.n_invalid) == (5, 3, 2)
    strict = judge(texts, [""] * 5, protocol=STRICT)
    assert strict.value == pytest.approx(3.0)  # the out-of-scale 9 is a failure too
    assert (strict.n_used, strict.n_invalid) == (2, 3)
    assert strict.samples[4].note == "score out of range"
    assert strict.unit == "score" and strict.higher_is_better
    assert strict.extra["coverage"] == pytest.approx(2 / 5)


def test_judge_all_failed_has_no_value() -> None:
    result = judge([None, None], protocol=STRICT)
    assert result.value is None and result.n_invalid == 2
    with pytest.raises(ValueError):
        judge(["Score: 3"], ["a", "b"], protocol=STRICT)


def test_strict_judge_reads_the_whole_score_and_rejects_ten() -> None:
    from llaso_core.metrics import METRICS

    texts = ["Score: 10\nExplanation: out of scale", "Score: 4"]
    strict = METRICS["judge"](texts, [], protocol="strict")
    assert strict.value == 4.0 and strict.n_invalid == 1
    assert METRICS["judge"](texts, [], protocol="paper").value == 2.5  # the release reads "1"


def test_pssl_paper_does_not_combine_the_two_regexes() -> None:
    mixed = "Accuracy is 8, fluency is 9, and 7 for prosodic."
    ref = REF.format(8, 7, 9)
    paper = pssl_accuracy([mixed], [ref], protocol=Protocol.PAPER)
    assert (paper.value, paper.n_used) == (0.0, 0)  # extract_scores: main regex 2 aspects, fallback 1
    strict = pssl_accuracy([mixed], [ref], protocol=Protocol.STRICT)
    assert (strict.value, strict.n_invalid) == (1.0, 0)
