"""MAE: released pitch/age parsers (paper) and the strict counted-invalid rule."""

from __future__ import annotations

import pytest

from llaso_core.metrics import Protocol
from llaso_core.metrics.numeric import mae

PAPER, STRICT = Protocol.PAPER, Protocol.STRICT


def test_paper_pitch_drops_unparseable_and_out_of_range() -> None:
    predictions = ["60", "", ".", "200", "40-45", None]
    references = ["62", "50", "50", "100", "40", "10"]
    result = mae(predictions, references, protocol=PAPER, parser="pitch")
    assert result.value == pytest.approx((2 + 2) / 2)  # 42 vs 40 (rounded range midpoint)
    assert (result.n, result.n_used, result.n_invalid) == (6, 2, 4)
    notes = [None, "no number", "no number", "out of range", None, "missing prediction"]
    assert [s.note for s in result.samples] == notes
    assert result.unit == "semitones" and not result.higher_is_better


def test_paper_pitch_checks_the_reference_range_too() -> None:
    result = mae(["60"], ["130"], protocol=PAPER, parser="pitch")
    assert result.value is None and result.n_invalid == 1


def test_paper_age_parser() -> None:
    predictions = ["40s", "adult", "thirties", "30-35", "150"]
    references = ["45", "20", "30", "30", "50"]
    result = mae(predictions, references, protocol=PAPER, parser="age")
    # 5 + 2 + |32 - 30| + 100 (no range check for age) over 4 parsed answers
    assert result.value == pytest.approx((5 + 2 + 2 + 100) / 4)
    assert (result.n_used, result.n_invalid, result.unit) == (4, 1, "years")


def test_strict_counts_invalid_and_reports_coverage() -> None:
    predictions = ["40s", "adult", "thirties", "30-35", "about 50", "150"]
    references = ["45", "20", "30", "30", "50", "50"]
    result = mae(predictions, references, protocol=STRICT, parser="age")
    assert result.value == pytest.approx((2.5 + 0) / 2)
    assert (result.n, result.n_used, result.n_invalid) == (6, 2, 4)
    assert result.extra["coverage"] == pytest.approx(2 / 6)
    assert [s.invalid for s in result.samples] == [True, True, True, False, False, True]


def test_strict_bad_reference_is_reported() -> None:
    result = mae(["5"], ["n/a"], protocol=STRICT, parser="pitch")
    assert result.value is None and result.extra["bad_references"] == 1


def test_unknown_parser_raises() -> None:
    with pytest.raises(ValueError):
        mae(["1"], ["1"], protocol=STRICT, parser="height")
