"""The report arithmetic on hand-checkable numbers."""

import pytest

from llaso_core.reports.aggregate import (
    Cell,
    category_comparison,
    collect_cells,
    judge_warning,
    minmax_normalise,
    normalised_scores,
    primary_metric,
    protocol_warning,
    recipe_text,
    stability,
    stability_table,
    value_of,
)
from llaso_core.reports.document import best_columns, format_value
from llaso_core.reports.figures import pack_rows, panel_key
from llaso_core.reports.load import as_systems

from . import fixtures

PS, PC = "paralinguistic-speaker", "paralinguistic-content"


def cell(task, metric, values, higher=True, category=PS, unit="fraction"):
    return Cell(task=task, metric=metric, category=category, task_name=task, higher_is_better=higher, unit=unit,
                values=values)


def test_minmax_normalise_higher_and_lower_is_better():
    assert minmax_normalise({"A": 0.9, "B": 0.5, "C": 0.7}, True) == pytest.approx({"A": 1, "B": 0, "C": 0.5})
    # lower is better (WER): the smallest error is the best
    assert minmax_normalise({"A": 0.1, "B": 0.3, "C": 0.15}, False) == pytest.approx({"A": 1, "B": 0, "C": 0.75})


def test_minmax_normalise_needs_two_differing_values():
    assert minmax_normalise({"A": 0.9, "B": None}, True) == {}
    assert minmax_normalise({"A": 0.4, "B": 0.4, "C": 0.4}, True) == {}
    assert minmax_normalise({"A": 2.0, "B": None, "C": 4.0}, True) == {"A": 0.0, "C": 1.0}


CELLS = [
    cell("T1", "acc", {"A": 0.9, "B": 0.5, "C": 0.7}),                                # A 1, B 0, C .5
    cell("T1", "abstention", {"A": 0.0, "B": 0.5, "C": 0.2}, higher=False),           # diagnostic: excluded
    cell("T2", "wer", {"A": 0.1, "B": 0.3, "C": None}, higher=False, category=PC),     # A 1, B 0
    cell("T3", "mae", {"A": 10.0, "B": 10.0, "C": None}, higher=False, category=PC, unit="years"),  # tie: skipped
    cell("T4", "judge", {"A": 2.0, "B": 4.0, "C": 3.0}, category=PC, unit="score"),   # A 0, B 1, C .5
]


def test_normalised_scores_overall_is_mean_over_cells():
    norm = normalised_scores(CELLS, ["A", "B", "C"])
    assert norm.overall == pytest.approx({"A": 2 / 3, "B": 1 / 3, "C": 0.5})
    assert norm.n_cells == {"A": 3, "B": 3, "C": 2}
    expected = {"T1": {"A": 1, "B": 0, "C": 0.5}, "T2": {"A": 1, "B": 0}, "T4": {"A": 0, "B": 1, "C": 0.5}}
    assert set(norm.per_task) == set(expected)
    for task, scores in expected.items():
        assert norm.per_task[task] == pytest.approx(scores)
    assert norm.skipped == [("T3", "mae", "all systems tie")]
    assert [c.metric for c, _ in norm.cells] == ["acc", "wer", "judge"]


def test_normalised_scores_can_count_abstention_and_needs_two_systems():
    norm = normalised_scores(CELLS, ["A", "B", "C"], exclude_metrics=())
    # abstention cell: A 1, B 0, C (0.5-0.2)/0.5 = 0.6
    assert norm.overall["C"] == pytest.approx((0.5 + 0.6 + 0.5) / 3)
    assert normalised_scores(CELLS, ["A"]) is None
    assert "'abstention'" in recipe_text() and "min-max" in recipe_text() and "at least two systems" in recipe_text()


def test_stability_sums_the_differences_to_ta():
    total, terms = stability({"ta": 0.8, "pa": 0.7, "at": 0.5})
    assert total == pytest.approx(0.4) and terms == pytest.approx({"pa": 0.1, "at": 0.3})
    assert stability({"ta": 0.8, "pa": 0.6, "at": None})[0] == pytest.approx(0.2)
    assert stability({"ta": 2.0, "at": 3.5})[0] == pytest.approx(1.5)
    assert stability({"ta": 0.8}) == (None, {})
    assert stability({"pa": 0.8, "at": 0.7}) == (None, {})
    assert stability({"ta": None, "pa": 0.8}) == (None, {})


def test_stability_table_uses_the_primary_metric_of_the_modalities_section():
    systems = as_systems([("x", fixtures.llaso_base()), ("y", fixtures.toy_baseline_strict())])
    entries = {(e.label, e.task): e for e in stability_table(systems)}
    aqa = entries[("LLaSO-Base", "AQA")]
    assert aqa.metric == "judge"
    assert aqa.value == pytest.approx(abs(2.72 - 2.39) + abs(2.72 - 2.06))
    assert entries[("LLaSO-Base", "ASR")].metric == "wer"  # first metric listed, not cer
    assert entries[("LLaSO-Base", "ASR")].value == pytest.approx(0.006)
    assert entries[("LLaSO-Base", "AR")].metric == "acc"
    # Toy-Baseline's AQA has no PA value: only |TA-AT| counts
    toy = entries[("Toy-Baseline", "AQA")]
    assert toy.terms == pytest.approx({"at": 0.7}) and toy.value == pytest.approx(0.7)
    assert primary_metric({"metrics": {"pssl_acc": {}, "judge": {}}}) == "pssl_acc"


def test_category_comparison_normalised_and_accuracy():
    labels = ["A", "B", "C"]
    norm = normalised_scores(CELLS, labels)
    out = category_comparison(CELLS, labels, norm)
    # PS: T1 acc -> A 1, B 0, C .5 ; PC: T2 wer (A 1, B 0) and T4 judge (A 0, B 1, C .5)
    assert out["normalised"]["A"].speaker == pytest.approx(1) and out["normalised"]["A"].content == pytest.approx(0.5)
    assert out["normalised"]["C"].content == pytest.approx(0.5) and out["normalised"]["C"].n_content == 1
    # accuracy-type cells: only T1 acc (PS); no PC accuracy
    assert out["accuracy"]["B"].speaker == pytest.approx(0.5) and out["accuracy"]["B"].content is None
    assert "normalised" not in category_comparison(CELLS, ["A"], None)


def test_collect_cells_orders_by_category_and_keeps_nulls():
    systems = as_systems([("a", fixtures.llaso_base()), ("b", fixtures.qwen2_audio())])
    cells = collect_cells(systems)
    assert [c.category for c in cells][0] == "linguistic" and cells[0].key == ("ASR", "wer")
    pp = next(c for c in cells if c.task == "PP")
    assert pp.values == {"LLaSO-Base": pytest.approx(8.26), "Qwen2-Audio": None}
    assert pp.higher_is_better is False and pp.unit == "semitones"
    assert value_of({"value": float("nan")}) is None and value_of(None) is None and value_of({"value": 1}) == 1.0


def test_protocol_and_judge_warnings():
    same = as_systems([("a", fixtures.llaso_base()), ("b", fixtures.qwen2_audio())])
    assert protocol_warning(same) is None and judge_warning(same) is None
    mixed = as_systems([("a", fixtures.llaso_base()), ("c", fixtures.toy_baseline_strict())])
    warning = protocol_warning(mixed)
    assert "DIFFERENT PROTOCOLS" in warning and "LLaSO-Base: paper" in warning and "Toy-Baseline: strict" in warning
    assert "strict/1" in judge_warning(mixed)


def test_table_helpers():
    assert best_columns([0.1, 0.3, None], higher_is_better=False) == {0}
    assert best_columns([0.5, 0.5], True) == set() and best_columns([0.5, None], True) == set()
    assert best_columns([0.9, 0.5, 0.9], True) == {0, 2}
    assert format_value(None) == "—" and format_value(0.08465, "fraction") == "0.085"
    assert format_value(8.0179, "semitones", "mae") == "8.02"


def test_figure_layout_helpers():
    assert pack_rows([5, 7, 1, 1, 4]) == [[0, 4], [1, 2, 3]]
    assert pack_rows([3, 2]) == [[0, 1]]
    assert pack_rows([12, 2]) == [[0], [1]]  # the widest panel sets the row limit
    assert pack_rows([]) == []
    # different units never share an axis
    keys = {panel_key(m, u, h)[1] for m, u, h in
            [("wer", "fraction", False), ("acc", "fraction", True), ("judge", "score", True),
             ("mae", "years", False), ("mae", "semitones", False)]}
    assert len(keys) == 5
    assert panel_key("wer", "fraction", False) == panel_key("per", "fraction", False)
