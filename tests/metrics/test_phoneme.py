"""PER: the released letter-based "PER" and the strict phone-level PER."""

from __future__ import annotations

import pytest

from llaso_core.metrics import Protocol
from llaso_core.metrics.phoneme import IDX_MAPPING, TIMIT61, paper_letter_sequence, per, segment_ipa

PAPER, STRICT = Protocol.PAPER, Protocol.STRICT


def test_timit_table_shape() -> None:
    assert len(TIMIT61) == 61 and len(set(TIMIT61)) == 61
    folded = {IDX_MAPPING.get(i, i) for i in range(61)}
    assert len(folded) == 39  # 61 -> 39 phone classes (q folded with the closures)


def test_letter_merges_described_in_the_research_note() -> None:
    a, b, c, d, f, g, h, w, k, n, v = (paper_letter_sequence(x)[0] for x in "abcdfghwknv")
    assert a == d == 3  # A -> D
    assert c == g == f == 5  # C, G -> F
    assert h == w == 22  # H -> W
    assert k == n == v == 27  # K, N, V -> 27
    assert paper_letter_sequence("rstu") == [36, 37, 38, 39]
    assert b != a and len({paper_letter_sequence(x)[0] for x in "bdeijlmopqxyz"}) == 13


def test_paper_sequence_keeps_only_ascii_letters() -> None:
    assert paper_letter_sequence("ɪn ɐ vɛɹi") == paper_letter_sequence("nvi")
    assert paper_letter_sequence("ʃəː ʊ ɾ") == []


def test_paper_per_normalises_by_model_output_length() -> None:
    # ground truth "bi" vs output "bie": one edit; the output (3 letters) is the denominator
    result = per(["bie"], ["bi"], protocol=PAPER)
    assert result.value == pytest.approx(1 / 3)
    assert per(["bi"], ["bie"], protocol=PAPER).value == pytest.approx(1 / 2)
    # merged letters are "equal": a vs d costs nothing
    assert per(["bad"], ["bda"], protocol=PAPER).value == 0.0


def test_paper_per_empty_truth_rule_and_mean_over_utterances() -> None:
    # empty output & empty truth -> 0; empty output & non-empty truth -> 1
    result = per(["ʃ", "ʃ", "bie"], ["ɪ", "bi", "bi"], protocol=PAPER)
    assert [s.value for s in result.samples] == pytest.approx([0.0, 1.0, 1 / 3])
    assert result.value == pytest.approx((0 + 1 + 1 / 3) / 3)


def test_paper_per_missing_prediction_is_dropped() -> None:
    result = per([None, "bi"], ["bi", "bi"], protocol=PAPER)
    assert (result.value, result.n, result.n_used, result.n_invalid) == (0.0, 2, 1, 1)


def test_segment_ipa() -> None:
    assert segment_ipa("t͡ʃiːz kʰæt") == ["t͡ʃ", "iː", "z", "kʰ", "æ", "t"]
    assert segment_ipa("ˈhɛloʊ") == ["h", "ɛ", "l", "o", "ʊ"]
    assert segment_ipa("  ") == []
    # combining diacritics stay on their base (nasalised vowel)
    assert segment_ipa("ɑ̃ n") == ["ɑ̃", "n"]


def test_strict_per_is_corpus_level_with_ground_truth_reference() -> None:
    # reference 4 phones, output drops one; second utterance 2 phones, perfect
    result = per(["t͡ʃiː", "æt"], ["t͡ʃiːz", "æt"], protocol=STRICT)
    assert result.samples[0].value == pytest.approx(1 / 3)
    assert result.value == pytest.approx(1 / 5)
    # IPA symbols count (paper would see nothing for these strings)
    assert per(["ʃə"], ["ʒə"], protocol=STRICT).value == pytest.approx(1 / 2)
    assert per(["ʃə"], ["ʒə"], protocol=PAPER).value == 0.0


def test_strict_per_missing_prediction_counts_as_deletions() -> None:
    result = per([None], ["ab"], protocol=STRICT)
    assert (result.value, result.n_invalid, result.n_used) == (1.0, 1, 1)
    assert per(["x"], [""], protocol=STRICT).value is None
