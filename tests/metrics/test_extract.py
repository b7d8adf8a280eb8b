"""Extractors: closed labels, numbers, PSSL aspects, judge scores."""

from __future__ import annotations

import pytest

from llaso_core.metrics.extract import (
    abstention_hits,
    normalize_label_text,
    paper_abstention_label,
    paper_clean,
    paper_is_correct,
    parse_age_paper,
    parse_judge_score,
    parse_number_strict,
    parse_pitch_paper,
    parse_pssl,
    strict_label,
    strict_label_hits,
)

VCTK = ["american", "australian", "british", "canadian", "indian", "irish", "new zealand",
        "northern irish", "scottish", "south africa"]  # fmt: skip


# --------------------------------------------------------------------------- strict labels


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Northern Irish.", "northern irish"),
        ("The speaker has a northern irish accent", "northern irish"),
        ("Irish", "irish"),
        ("IRISH!", "irish"),
        ("New Zealand", "new zealand"),
        ("south africa", "south africa"),
        ("Northern Irish, or maybe Irish", None),  # two distinct labels
        ("British or American", None),
        ("I cannot tell", None),
        ("", None),
        ("   ", None),
        ("irishman", None),  # no word boundary
    ],
)
def test_strict_label_prefers_longest_and_abstains(answer: str, expected: str | None) -> None:
    assert strict_label(answer, VCTK) == expected


def test_strict_label_male_is_not_inside_female() -> None:
    assert strict_label("Female.", ["male", "female"]) == "female"
    assert strict_label("male", ["male", "female"]) == "male"
    assert strict_label_hits("male and female voices", ["male", "female"]) == ["female", "male"]


def test_strict_label_returns_the_declared_spelling() -> None:
    assert strict_label("15-19 years", ["15-19", "20-24", "25-29", "30+"]) == "15-19"
    assert strict_label("thirty plus", ["15-19", "30+"]) is None
    assert strict_label("Probably 30+.", ["15-19", "30+"]) == "30+"


def test_strict_label_numbers_need_boundaries() -> None:
    labels = ["127", "100", "75", "50", "25"]
    assert strict_label("The velocity is 100.", labels) == "100"
    assert strict_label("1000", labels) is None
    assert strict_label("between 25 and 50", labels) is None


def test_normalize_label_text() -> None:
    assert normalize_label_text("  South   Africa. ") == "south africa"
    assert normalize_label_text("Throat-Clearing") == "throat clearing"
    assert normalize_label_text("...") == ""


# --------------------------------------------------------------------------- paper labels


def test_paper_rule_examples_from_the_released_script() -> None:
    labels = {paper_clean(x) for x in ["Irish.", "Northern Irish.", "Male.", "Female."]}
    # equal after '.' removal and lowercasing
    assert paper_is_correct(paper_clean("Irish."), "irish", labels)
    # "female" contains "male": only an exact match counts
    assert paper_is_correct(paper_clean("Female"), "female", labels)
    assert not paper_is_correct(paper_clean("It is female"), "female", labels)
    # containing the label and no other label is enough
    assert paper_is_correct(paper_clean("The speaker is Irish."), "irish", labels)
    # a correct "northern irish" answer in a sentence also contains "irish": wrong
    assert not paper_is_correct("the accent is northern irish", "northern irish", labels)
    assert not paper_is_correct("northern irish", "irish", labels)


def test_paper_clean_removes_only_dots_and_case() -> None:
    assert paper_clean(" A.B. c, ") == " ab c, "


def test_paper_abstention_counts_overlapping_labels() -> None:
    labels = sorted({paper_abstention_label(x) for x in ["Irish.", "Northern Irish. "]})
    assert labels == ["irish", "northern irish"]
    assert abstention_hits("Northern Irish", labels) == ["irish", "northern irish"]
    assert abstention_hits("Irish.", labels) == ["irish"]
    assert abstention_hits("Irishman", labels) == []


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60", 60.0),
        (" 60\n", 60.0),
        ("60.5", 60.0),  # pitch_L1.py rounds every parsed value: int(round(60.5)) == 60
        ("61.5", 62.0),
        ("The pitch is 60.7.", 61.0),
        ("60.4 - 61.9", 61.0),  # range: rounded mean
        ("nan", None),  # the script cannot round NaN: the sample is dropped
        ("MIDI note 60", 60.0),
        ("40-45", 42.0),  # round(42.5) == 42 (Python rounds half to even)
        ("41-46", 44.0),  # round(43.5) == 44
        ("between 40 and 45", 40.0),  # no '-': first number
        ("C4 (MIDI 60)", 4.0),  # first number, whatever it is
        ("", None),
        (".", None),
        ("no idea", None),
    ],
)
def test_parse_pitch_paper(text: str, expected: float | None) -> None:
    assert parse_pitch_paper(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23", 23.0),
        ("40s", 40.0),
        ("40-45", 42.0),
        ("about 30 years old", 30.0),
        ("12.5", 12.0),  # int() fails, regex \d+ takes "12"
        ("An adult", 22.0),
        ("thirties", None),
        ("", None),
    ],
)
def test_parse_age_paper(text: str, expected: float | None) -> None:
    assert parse_age_paper(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60", 60.0),
        ("60.", 60.0),
        ("The pitch is 60 (C4).", 60.0),  # "C4" is not a standalone number
        ("40-45", 42.5),
        ("40 to 45 years", 42.5),
        ("It is 60, yes 60", 60.0),
        ("40s", None),
        ("60 or 61", None),
        ("between 40 and 45", None),
        ("forty", None),
        ("", None),
        (".", None),
    ],
)
def test_parse_number_strict(text: str, expected: float | None) -> None:
    assert parse_number_strict(text) == expected


# --------------------------------------------------------------------------- PSSL, judge


def test_parse_pssl_reference_format() -> None:
    text = (
        "Kate loves china. For the sentence: accuracy is 7, prosodic is 9, fluency is 9 "
        "total score is 7."
    )
    assert parse_pssl(text) == {"accuracy": 7, "proso": 9, "fluency": 9}


def test_parse_pssl_other_formats() -> None:
    assert parse_pssl("{'accuracy': 9, 'prosody': 8, 'fluency': 7, 'total': 24}") == {
        "accuracy": 9, "proso": 8, "fluency": 7}  # fmt: skip
    assert parse_pssl("I give 6 for accuracy, 5 for prosody and 4 for fluency") == {
        "accuracy": 6, "proso": 5, "fluency": 4}  # fmt: skip
    assert parse_pssl("accuracy is 8, fluency is 8") is None
    assert parse_pssl("") is None


def test_parse_pssl_later_match_overwrites() -> None:
    text = "accuracy: 3\nprosody: 4\nfluency: 5\nFinal: accuracy = 9"
    assert parse_pssl(text) == {"accuracy": 9, "proso": 4, "fluency": 5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Score: 4  \nExplanation: fine", 4),
        ("Score:5", 5),
        ("blah\nScore: 2\nScore: 3", 2),
        ("score: 4", None),
        ("Score: four", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_judge_score(text: str | None, expected: int | None) -> None:
    assert parse_judge_score(text) == expected
