"""WER / CER: direction, normalisation, empty and missing inputs."""

from __future__ import annotations

import jiwer
import pytest

from llaso_core.metrics import METRICS, Protocol
from llaso_core.metrics.error_rate import cer, wer
from llaso_core.metrics.normalize import BASIC_EN, basic_en

PAPER, STRICT = Protocol.PAPER, Protocol.STRICT


def test_direction_matters_on_a_deletion() -> None:
    # ground truth has 4 words, the model output drops two of them
    predictions, references = ["a b"], ["a b c d"]
    # strict: 2 deletions over 4 reference words
    assert wer(predictions, references, protocol=STRICT).value == pytest.approx(0.5)
    # paper: the output is the reference -> 2 insertions over 2 words
    assert wer(predictions, references, protocol=PAPER).value == pytest.approx(1.0)
    assert cer(predictions, references, protocol=STRICT).value == pytest.approx(4 / 7)
    assert cer(predictions, references, protocol=PAPER).value == pytest.approx(4 / 3)


def test_corpus_level_not_mean_of_utterances() -> None:
    predictions = ["a", "x b c d e f g h i j"]
    references = ["b", "a b c d e f g h i j"]
    result = wer(predictions, references, protocol=STRICT)
    assert result.value == pytest.approx(2 / 11)  # not (1 + 0.1) / 2
    assert [s.value for s in result.samples] == pytest.approx([1.0, 0.1])
    assert result.extra["errors"] == 2 and result.extra["ref_len"] == 11


def test_paper_equals_jiwer_with_swapped_arguments() -> None:
    predictions = ["Hello  world.", "the cat sat", "  Good Morning"]
    references = ["hello world", "The cat sat on the mat.", "good morning"]
    assert wer(predictions, references, protocol=PAPER).value == pytest.approx(
        jiwer.wer(predictions, references)
    )
    # evaluate's cer: collapse spaces, strip, characters (spaces count), corpus sums
    chars = jiwer.Compose(
        [jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfChars()]
    )
    expected = jiwer.process_characters(predictions, references, chars, chars).cer
    assert cer(predictions, references, protocol=PAPER).value == pytest.approx(expected)


def test_paper_is_case_and_punctuation_sensitive_strict_is_not() -> None:
    predictions, references = ["Hello, World!"], ["hello world"]
    assert wer(predictions, references, protocol=PAPER).value == pytest.approx(1.0)
    strict = wer(predictions, references, protocol=STRICT)
    assert strict.value == 0.0
    assert strict.extra["normalizer"] == BASIC_EN == "basic-en@1"
    assert wer(predictions, references, protocol=PAPER).extra["normalizer"] == "none"


def test_empty_references_do_not_crash() -> None:
    only_empty = wer(["something here"], [""], protocol=STRICT)
    assert only_empty.value is None  # no reference words: rate undefined
    assert only_empty.extra["errors"] == 2
    mixed = wer(["extra", "a b"], ["", "a b"], protocol=STRICT)
    assert mixed.value == pytest.approx(1 / 2)  # the insertion counts, the denominator is 2
    assert mixed.samples[0].value is None
    assert wer([""], [""], protocol=STRICT).value is None
    # paper: an empty model output is the (empty) reference side
    paper = wer(["", "a b"], ["x y", "a b"], protocol=PAPER)
    assert paper.value == pytest.approx(2 / 2)
    assert cer([""], ["abc"], protocol=PAPER).value is None
    assert wer([], [], protocol=STRICT).value is None


def test_missing_prediction_dropped_by_paper_counted_by_strict() -> None:
    predictions, references = [None, "a b"], ["c d", "a b"]
    paper = wer(predictions, references, protocol=PAPER)
    assert (paper.value, paper.n, paper.n_used, paper.n_invalid) == (0.0, 2, 1, 1)
    assert paper.samples[0].invalid and paper.samples[0].value is None
    strict = wer(predictions, references, protocol=STRICT)
    assert (strict.value, strict.n, strict.n_used, strict.n_invalid) == (0.5, 2, 2, 1)
    assert strict.samples[0].invalid and strict.samples[0].value == 1.0


def test_length_mismatch_and_unknown_option_raise() -> None:
    with pytest.raises(ValueError):
        wer(["a"], ["a", "b"], protocol=STRICT)
    with pytest.raises(TypeError):
        wer(["a"], ["a"], protocol=STRICT, normaliser="x")


def test_registry_entries_and_string_protocol() -> None:
    assert METRICS["wer"] is wer and METRICS["cer"] is cer
    assert wer(["a"], ["b"], protocol="paper").protocol is PAPER
    result = cer(["ab"], ["ab"], protocol=STRICT)
    assert (result.unit, result.higher_is_better, result.name) == ("fraction", False, "cer")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("Don't  STOP", "don't stop"),
        ("Don\u2019t", "don't"),
        ("'quoted' dogs'", "quoted dogs"),
        ("well-known", "well known"),
        ("\uff21\uff22\uff23", "abc"),  # NFKC folds full-width letters
        ("snake_case", "snake case"),
        ("  ", ""),
        ("caf\u0065\u0301", "caf\u00e9"),  # NFKC composes
    ],
)
def test_basic_en(text: str, expected: str) -> None:
    assert basic_en(text) == expected
