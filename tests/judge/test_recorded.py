"""Recorded judge outputs of the release: loading, import into the cache, reuse without requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from llaso_core.judge import (
    Judge,
    JudgeCache,
    JudgeRequest,
    find_recorded,
    import_recorded,
    load_recorded,
    load_recorded_for,
    parse_score,
    recorded_path,
    summarize,
)

from tests.reference import require_reference

from .server import FakeJudgeServer

DOLLY = "LLaSO-Base/gpt_result/dolly_input_1_test.jsonl"  #: recorded judge outputs, in the release folder

MakeJudge = Callable[..., Judge]


def _write_release(tmp_path: Path) -> Path:
    evaluations = [
        ("yes", "Score: 5  \nExplanation: same"),
        ("no", "Score: 1\nExplanation: wrong"),
        ("yes", "Score: 4\nExplanation: again"),  # same pair as index 0, another verdict
        ("eh", "ERROR: rate limited"),
        ("hm", "No idea."),
    ]
    rows = [{"file": "foo_test.json", "index": i, "predicted": predicted, "reference": "yes",
             "evaluation": evaluation} for i, (predicted, evaluation) in enumerate(evaluations)]
    folder = tmp_path / "sys" / "gpt_result"
    folder.mkdir(parents=True)
    (folder / "foo_test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    (tmp_path / "sys" / "foo_test.json").write_text("[]")
    return tmp_path / "sys" / "foo_test.json"


def test_find_and_load_recorded(tmp_path: Path) -> None:
    prediction_file = _write_release(tmp_path)
    assert recorded_path(prediction_file) == tmp_path / "sys" / "gpt_result" / "foo_test.jsonl"
    assert find_recorded(tmp_path / "sys" / "bar_test.json") is None
    assert load_recorded_for(tmp_path / "sys" / "bar_test.json") == ({}, [])
    rows, problems = load_recorded_for(prediction_file)
    assert sorted(rows) == [0, 1, 2, 3, 4] and problems == []
    judgments = [rows[i].judgment for i in range(5)]
    assert [j.status for j in judgments] == ["ok", "ok", "ok", "api_error", "parse_error"]
    assert [j.score for j in judgments] == [5, 1, 4, None, None]
    assert all(j.source == "recorded" for j in judgments)
    assert judgments[3].error == "rate limited"


def test_import_then_judge_uses_recorded(
    server: FakeJudgeServer, make_judge: MakeJudge, tmp_path: Path
) -> None:
    prediction_file = _write_release(tmp_path)
    with JudgeCache(tmp_path / "judge.sqlite") as cache:
        # the repeated (yes, yes) pair keeps its first row
        assert import_recorded(cache, prediction_file) == 4
        assert import_recorded(cache, prediction_file.parent) == 0  # already there
    judge = make_judge(model="gpt-4o-mini", protocol="paper")
    results = judge.judge([
        JudgeRequest("yes", "yes", question="ignored by paper"),
        JudgeRequest("yes", "eh"),
        JudgeRequest("yes", "hm"),
        JudgeRequest("yes", "new [score=3]"),
    ])
    assert [(j.status, j.score, j.source) for j in results] == [
        ("ok", 5, "recorded"),
        ("api_error", None, "recorded"),
        ("parse_error", None, "recorded"),
        ("ok", 3, "api"),
    ]
    assert server.count == 1
    # recorded outputs belong to the paper prompt of gpt-4o-mini only
    offline = make_judge(model="gpt-4o-mini", protocol="strict", offline=True)
    assert offline.judge([JudgeRequest("yes", "yes", question="q")])[0].status == "missing"


def test_released_dolly_judgments_are_reused(
    server: FakeJudgeServer, make_judge: MakeJudge, tmp_path: Path
) -> None:
    dolly = require_reference(DOLLY)
    rows, _ = load_recorded(dolly)
    scores = [parse_score(r.evaluation) for r in rows.values()]
    assert None not in scores
    with JudgeCache(tmp_path / "judge.sqlite") as cache:
        unique_pairs = {(r.reference, r.predicted) for r in rows.values()}
        assert import_recorded(cache, dolly) == len(unique_pairs)
    judge = make_judge(model="gpt-4o-mini", protocol="paper")
    results = judge.judge([JudgeRequest(r.reference, r.predicted) for _, r in sorted(rows.items())])
    assert server.count == 0
    assert all(j.source == "recorded" for j in results)
    assert summarize(results).mean == pytest.approx(sum(scores) / len(scores))
    assert summarize(results).n_ok == len(rows)


def test_import_from_release_folder(tmp_path: Path) -> None:
    dolly = require_reference(DOLLY)
    release = dolly.parents[1]
    with JudgeCache(tmp_path / "judge.sqlite") as cache:
        written = import_recorded(cache, release / "dolly_input_1_test.json")
        assert written == len(load_recorded(dolly)[0])
        assert import_recorded(cache, release) > 0
