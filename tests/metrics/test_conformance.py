"""The ``paper`` protocol must reproduce every row of the released ``expected.csv``.

Fixture: the release folder :mod:`tests.reference` finds. Skipped when absent, except under
``CI=true`` where its absence is a failure.
"""

from __future__ import annotations

import csv
import json
from functools import cache

import pytest

from llaso_core.metrics import METRICS, Protocol
from tests.reference import reference_dir, require_reference

REFERENCE_DIR = reference_dir()
EXPECTED = REFERENCE_DIR / "expected.csv"
PREDICTION_KEYS = ("answer", "prediction", "result")
# Which options a metric needs for a file stem (the real task registry lives elsewhere).
MAE_PARSER = {"NSynth_pitch_recognition_test": "pitch", "vocalsound_age_prediction_test": "age"}
TOLERANCE = 1e-6  # expected.csv prints 6 decimals


def _rows() -> list[dict[str, str]]:
    if not EXPECTED.is_file():
        return []
    with EXPECTED.open(newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = _rows()


@pytest.fixture(autouse=True)
def _require_fixture() -> None:
    require_reference("expected.csv")


@cache
def _task_file(system: str, stem: str) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    """(predictions, ground truths) of one released task file."""
    path = REFERENCE_DIR / system / f"{stem}.json"
    samples = json.loads(path.read_text(encoding="utf-8"))
    predictions = tuple(next((s[k] for k in PREDICTION_KEYS if k in s), None) for s in samples)
    references = tuple(s["conversations"][1]["value"] for s in samples)
    return predictions, references


@cache
def _judge_file(system: str, stem: str) -> tuple[str | None, ...]:
    """Recorded judge evaluations of one task file."""
    path = REFERENCE_DIR / system / "gpt_result" / f"{stem}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line).get("evaluation") for line in lines if line.strip())


def _compute(system: str, stem: str, metric: str):
    if metric == "judge":
        return METRICS["judge"](_judge_file(system, stem), (), protocol=Protocol.PAPER)
    predictions, references = _task_file(system, stem)
    name = "mae" if metric == "n_valid" else metric
    options = {"parser": MAE_PARSER[stem]} if name == "mae" else {}
    return METRICS[name](predictions, references, protocol=Protocol.PAPER, **options)


def test_fixture_has_rows() -> None:
    assert len(ROWS) > 100
    assert {r["metric"] for r in ROWS} >= set(METRICS)


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['system']}/{r['file']}/{r['metric']}" for r in ROWS]
)
def test_paper_protocol_reproduces_expected(row: dict[str, str]) -> None:
    result = _compute(row["system"], row["file"], row["metric"])
    expected, expected_n = float(row["value"]), int(row["n"])
    assert result.protocol is Protocol.PAPER
    assert len(result.samples) == result.n
    if row["metric"] == "n_valid":  # value = samples whose answer parsed, n = all samples
        assert result.n_used == int(expected)
        assert result.n == expected_n
        assert result.n_invalid == expected_n - int(expected)
        return
    assert result.value == pytest.approx(expected, abs=TOLERANCE)
    if row["metric"] in ("mae", "pssl_acc"):  # n = samples the value was computed on
        assert result.n_used == expected_n
    else:
        assert result.n == expected_n
