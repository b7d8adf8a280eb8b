"""Accuracy and abstention under both protocols."""

from __future__ import annotations

import pytest

from llaso_core.metrics import Protocol
from llaso_core.metrics.classification import abstention, accuracy

PAPER, STRICT = Protocol.PAPER, Protocol.STRICT
LABELS = ["Irish", "Northern Irish", "Scottish"]


def test_northern_irish_strict_vs_paper() -> None:
    predictions = ["The accent is Northern Irish.", "Northern Irish", "Irish."]
    references = ["Northern Irish.", "Irish.", "Irish."]
    strict = accuracy(predictions, references, protocol=STRICT, labels=LABELS)
    assert [s.value for s in strict.samples] == [1.0, 0.0, 1.0]
    assert strict.samples[0].extracted == "Northern Irish"
    paper = accuracy(predictions, references, protocol=PAPER)
    # paper: the sentence also contains "irish" -> wrong; "northern irish" for "irish" wrong
    assert [s.value for s in paper.samples] == [0.0, 0.0, 1.0]
    # abstention: paper counts "northern irish" answers as naming two labels
    assert abstention(predictions, references, protocol=PAPER).value == pytest.approx(2 / 3)
    assert abstention(predictions, references, protocol=STRICT, labels=LABELS).value == 0.0


def test_strict_abstention_counts_as_wrong_and_invalid() -> None:
    predictions = ["Scottish or Irish", "I don't know", "scottish"]
    references = ["Scottish", "Irish", "Scottish"]
    result = accuracy(predictions, references, protocol=STRICT, labels=LABELS)
    assert result.value == pytest.approx(1 / 3)
    assert (result.n, result.n_used, result.n_invalid) == (3, 3, 2)
    assert result.samples[0].invalid and result.samples[0].extracted == ["Scottish", "Irish"]
    assert result.samples[1].extracted is None


def test_paper_accuracy_is_not_reduced_by_abstention() -> None:
    # "scottish, i think. irish?" holds the true label and another one -> wrong under paper;
    # "well, scottish" holds only its label -> right; neither is counted invalid by paper acc
    predictions = ["Scottish, I think. Irish?", "well, scottish", "Irish"]
    references = ["Scottish.", "Scottish.", "Irish."]
    result = accuracy(predictions, references, protocol=PAPER)
    assert [s.value for s in result.samples] == [0.0, 1.0, 1.0]
    assert result.n_invalid == 0


def test_paper_label_set_comes_from_the_file_not_the_argument() -> None:
    # "female" contains "male": with both in the file, only the exact answer counts
    predictions, references = ["a female voice", "Female."], ["Female", "Male"]
    paper = accuracy(predictions, references, protocol=PAPER, labels=["female"])
    assert [s.value for s in paper.samples] == [0.0, 0.0]
    assert paper.extra["labels"] == ["female", "male"]
    strict = accuracy(predictions, references, protocol=STRICT)
    assert [s.value for s in strict.samples] == [1.0, 0.0]


def test_missing_prediction_is_wrong_invalid_and_an_abstention() -> None:
    for protocol in Protocol:
        acc = accuracy([None, "Irish"], ["Irish", "Irish"], protocol=protocol, labels=LABELS)
        assert (acc.value, acc.n_invalid, acc.n) == (0.5, 1, 2)
        abst = abstention([None, "Irish"], ["Irish", "Irish"], protocol=protocol, labels=LABELS)
        assert (abst.value, abst.n_invalid) == (0.5, 1)
        assert not abst.higher_is_better and acc.higher_is_better


def test_strict_labels_fall_back_to_references() -> None:
    predictions, references = ["cough", "a sneeze", "laughter"], ["Cough.", "Sneeze.", "Sigh."]
    result = accuracy(predictions, references, protocol=STRICT)
    assert [s.value for s in result.samples] == [1.0, 1.0, 0.0]
    assert result.samples[2].invalid  # "laughter" is not in the fallback label set
    assert result.extra["references_outside_labels"] == 0


def test_strict_reports_references_outside_declared_labels() -> None:
    labels = ["south african"]
    result = accuracy(["south african"], ["South Africa."], protocol=STRICT, labels=labels)
    assert result.value == 0.0
    assert result.extra["references_outside_labels"] == 1


def test_empty_inputs() -> None:
    assert accuracy([], [], protocol=STRICT).value is None
    assert abstention([""], ["x"], protocol=PAPER).value == 1.0
    assert accuracy([""], ["x"], protocol=STRICT).samples[0].invalid
