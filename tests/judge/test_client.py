"""Judge against a live OpenAI-compatible HTTP server (the real openai client, no mocks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from llaso_core.judge import Judge, JudgeCache, JudgeRequest, summarize

from .server import FakeJudgeServer, expected_score

MakeJudge = Callable[..., Judge]


def pairs(n: int, prefix: str = "answer") -> list[JudgeRequest]:
    return [JudgeRequest(reference=f"ref {i}", prediction=f"{prefix} {i} [score={i % 5 + 1}]",
                         question=f"question {i}") for i in range(n)]


def test_scores_come_back_in_input_order(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    requests = pairs(12) + [JudgeRequest("r", "no tag here")]
    results = make_judge(concurrency=4).judge(requests)
    assert [j.status for j in results] == ["ok"] * 13
    assert [j.score for j in results] == [expected_score(r.prediction) for r in requests]
    assert all(j.source == "api" and j.raw and j.raw.startswith("Score:") for j in results)
    assert server.count == 13
    body = server.requests[0]
    assert body["model"] == "test-judge" and body["temperature"] == pytest.approx(0.1)


def test_concurrency_runs_requests_in_parallel(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    server.delay = 0.1
    results = make_judge(concurrency=4).judge(pairs(8))
    assert all(j.ok for j in results)
    assert server.max_in_flight > 1


def test_serial_judge_keeps_one_request_in_flight(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    server.delay = 0.02
    assert all(j.ok for j in make_judge(concurrency=1).judge(pairs(4)))
    assert server.max_in_flight == 1


@pytest.mark.parametrize("status", [500, 429, 503])
def test_transient_errors_are_retried(server: FakeJudgeServer, make_judge: MakeJudge, status: int) -> None:
    server.transient["answer 1 "] = (status, 2)
    results = make_judge(max_retries=3).judge(pairs(3))
    assert [j.score for j in results] == [1, 2, 3]
    assert server.count == 3 + 2


def test_permanent_failure_is_api_error_and_retried_only_on_request(
    server: FakeJudgeServer, make_judge: MakeJudge
) -> None:
    server.always_fail["answer 1 "] = 500
    results = make_judge(max_retries=2).judge(pairs(3))
    assert [j.status for j in results] == ["ok", "api_error", "ok"]
    failed = results[1]
    assert failed.score is None and failed.raw is None and "InternalServerError" in (failed.error or "")
    assert server.count == 2 + 3  # one try + two retries for the failing pair
    assert summarize(results).mean == pytest.approx((1 + 3) / 2)  # never averaged in as 0
    assert summarize(results).n_api_error == 1

    again = make_judge(max_retries=2).judge(pairs(3))  # failure is cached and reported, not re-asked
    assert again[1].status == "api_error" and again[1].source == "cache"
    assert server.count == 5

    server.always_fail.clear()
    retried = make_judge(retry_failed=True).judge(pairs(3))
    assert [j.score for j in retried] == [1, 2, 3]
    assert [j.source for j in retried] == ["cache", "api", "cache"]
    assert server.count == 6


def test_client_errors_are_not_retried(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    server.always_fail["answer 0 "] = 400
    result = make_judge(max_retries=5).judge(pairs(1))[0]
    assert result.status == "api_error" and "BadRequestError" in (result.error or "")
    assert server.count == 1


def test_connection_failure_is_api_error(make_judge: MakeJudge, tmp_path: Path) -> None:
    judge = make_judge(base_url="http://127.0.0.1:9/v1", max_retries=1, timeout=2.0)
    result = judge.judge(pairs(1))[0]
    assert result.status == "api_error" and result.score is None
    assert "APIConnectionError" in (result.error or "")


def test_unparseable_output_is_parse_error(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    server.garbage.add("answer 0 ")
    results = make_judge().judge(pairs(2))
    assert results[0].status == "parse_error" and results[0].score is None
    assert results[0].raw == "I cannot decide on a number for this one."
    assert results[1].ok
    server.garbage.clear()
    assert make_judge().judge(pairs(2))[0].status == "parse_error"  # cached failure
    assert make_judge(retry_failed=True).judge(pairs(2))[0].score == 1
    assert server.count == 3


def test_cache_hit_makes_no_request(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    judge = make_judge()
    first = judge.judge(pairs(5))
    assert server.count == 5
    second = judge.judge(pairs(5))
    assert server.count == 5
    assert [j.score for j in second] == [j.score for j in first]
    assert all(j.source == "cache" for j in second)


def test_cache_persists_across_judges(server: FakeJudgeServer, make_judge: MakeJudge, tmp_path: Path) -> None:
    make_judge().judge(pairs(4))
    fresh = Judge("test-judge", protocol="paper", base_url=server.base_url, api_key="x",
                  cache=tmp_path / "judge.sqlite")
    try:
        results = fresh.judge(pairs(6))
    finally:
        fresh.close()
    assert [j.source for j in results] == ["cache"] * 4 + ["api"] * 2
    assert server.count == 6


def test_cache_is_keyed_by_model_and_protocol(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    make_judge().judge(pairs(2))
    make_judge(model="other-judge").judge(pairs(2))
    make_judge(protocol="strict").judge(pairs(2))
    assert server.count == 6


def test_duplicate_requests_are_sent_once(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    requests = [JudgeRequest("yes", "yes"), JudgeRequest("no", "yes"), JudgeRequest("yes", " yes ")]
    results = make_judge().judge(requests)
    assert server.count == 2
    assert results[0] == results[2]


def test_strict_prompt_contains_question_and_paper_does_not(
    server: FakeJudgeServer, make_judge: MakeJudge
) -> None:
    request = [JudgeRequest("Paris", "Paris [score=5]", question="What is the capital of France?")]
    make_judge(protocol="strict").judge(request)
    make_judge(protocol="paper").judge(request)
    strict_body, paper_body = server.requests
    strict_text = "\n".join(m["content"] for m in strict_body["messages"])
    paper_text = "\n".join(m["content"] for m in paper_body["messages"])
    assert "**Question:**\nWhat is the capital of France?" in strict_text
    assert "What is the capital of France?" not in paper_text
    with pytest.raises(ValueError, match="question"):
        make_judge(protocol="strict").judge([JudgeRequest("r", "p")])


def test_offline_reads_cache_only(server: FakeJudgeServer, make_judge: MakeJudge, monkeypatch) -> None:
    make_judge().judge(pairs(2))
    for name in ("LLASO_JUDGE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    offline = make_judge(offline=True, base_url=None, api_key=None)
    results = offline.judge(pairs(3))
    assert [j.status for j in results] == ["ok", "ok", "missing"]
    assert results[2].score is None
    assert server.count == 2
    assert summarize(results).n_missing == 1


def test_missing_api_key_fails_loudly(make_judge: MakeJudge, monkeypatch) -> None:
    for name in ("LLASO_JUDGE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="API key"):
        make_judge(base_url=None, api_key=None).judge(pairs(1))
    monkeypatch.setenv("LLASO_JUDGE_API_KEY", "from-env")
    assert make_judge(base_url=None, api_key=None)._api_key == "from-env"


def test_progress_reports_done_counts(server: FakeJudgeServer, make_judge: MakeJudge) -> None:
    make_judge().judge(pairs(2))
    seen: list[int] = []
    make_judge(concurrency=2).judge(pairs(5), progress=seen.append)
    assert seen[0] == 2 and seen[-1] == 5 and seen == sorted(seen)


def test_results_are_cached_as_they_arrive(
    server: FakeJudgeServer, make_judge: MakeJudge, tmp_path: Path
) -> None:
    def crash(done: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make_judge(concurrency=1).judge(pairs(6), progress=crash)
    with JudgeCache(tmp_path / "judge.sqlite") as cache:
        assert len(cache) == 2
    results = make_judge().judge(pairs(6))
    assert sum(j.source == "cache" for j in results) == 2
    assert server.count <= 6 + 1  # at most the call in flight at the crash is lost
