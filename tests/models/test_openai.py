"""The openai adapter against a real HTTP server on 127.0.0.1: request shape, faults, cache, eval."""

import json

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.models import GenerationOptions, load_model
from tests.models.audio_server import AudioChatServer
from tests.models.conftest import requests_of_each_modality

FAST = dict(retry_base_delay=0.01, retry_max_delay=0.05)


@pytest.fixture
def server():
    with AudioChatServer() as s:
        yield s


def model(server, tmp_path, **options):
    return load_model(f"openai:audio-test@{server.base_url}",
                      **{"cache": str(tmp_path / "answers.sqlite"), **FAST, **options})


def test_audio_parts_follow_the_query_order_as_decodable_wav_with_the_sampling_settings(server, tmp_path):
    requests = requests_of_each_modality()
    answers = model(server, tmp_path).answer(requests)
    assert [a.text.split(" ")[0] for a in answers] == ["text|audio:1.30s", "audio:0.70s|text", "text|audio:31.00s"]
    bodies = {json.dumps(b["messages"][0]["content"][0])[:30]: b for b in server.requests}
    assert all(b["temperature"] == 0.0 and "top_p" not in b and b["max_tokens"] == 8 for b in bodies.values())
    assert all(len(b["messages"]) == 1 for b in server.requests)  # no system prompt unless one is asked for
    server.requests.clear()
    sampled = model(server, tmp_path, cache=None, system="Be brief.").answer(
        requests[:1], GenerationOptions(do_sample=True, temperature=0.7, top_p=0.9))
    assert sampled[0].ok
    (body,) = server.requests
    assert (body["temperature"], body["top_p"]) == (0.7, 0.9)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert not server.problems


def test_rate_limits_and_server_errors_are_retried_then_reported_unanswered(server, tmp_path):
    requests = requests_of_each_modality()
    server.transient["speaker's gender"] = (429, 2)  # the ta query: two rate limits, then an answer
    server.always_fail["quick brown fox"] = 500  # the at query: never answered
    server.transient["Listen to the audio"] = (400, 1)  # the pa query: a client error is not retried
    answers = model(server, tmp_path, max_retries=3).answer(requests)
    assert answers[0].ok and answers[0].text.startswith("text|audio")
    assert not answers[1].ok and "after 4 attempts" in answers[1].error and answers[1].text is None
    assert not answers[2].ok and "400" in answers[2].error
    texts = [" ".join(p.get("text", "") for p in b["messages"][-1]["content"]) for b in server.requests]
    assert [sum(needle in t for t in texts) for needle in ("gender", "fox", "Listen")] == [3, 4, 1]


def test_time_outs_are_retried_and_reported(server, tmp_path):
    server.slow["quick brown fox"] = 2.0
    answers = model(server, tmp_path, timeout=0.3, max_retries=1).answer(requests_of_each_modality()[:2])
    assert answers[0].ok
    assert not answers[1].ok and "Timeout" in answers[1].error


def test_the_cache_answers_a_rerun_without_asking_again_but_failures_are_asked_again(server, tmp_path):
    requests = requests_of_each_modality()
    server.always_fail["quick brown fox"] = 503
    first = model(server, tmp_path, max_retries=0).answer(requests)
    asked = server.count
    assert asked == 3 and [a.ok for a in first] == [True, False, True]
    del server.always_fail["quick brown fox"]
    again = model(server, tmp_path, max_retries=0).answer(requests)
    assert server.count == asked + 1  # only the failed one
    assert [a.text for a in again][0::2] == [a.text for a in first][0::2] and again[1].ok
    other = load_model(f"openai:other-model@{server.base_url}", cache=str(tmp_path / "answers.sqlite"), **FAST)
    other.answer(requests[:1])
    assert server.count == asked + 2  # the key holds the model


def test_requests_run_concurrently(server, tmp_path):
    server.delay = 0.3
    answers = model(server, tmp_path, concurrency=3, cache=None).answer(requests_of_each_modality())
    assert all(a.ok for a in answers) and server.max_in_flight == 3


def test_eval_end_to_end_records_the_model_and_leaves_failures_unanswered_then_resumes(server, corpus, tmp_path):
    out = tmp_path / "out"
    server.always_fail["lmao"] = 500  # nothing matches yet
    rows = [json.loads(l) for l in (corpus / "train.jsonl").read_text().splitlines()]
    victim = next(r for r in rows if r["task"] == "SGC" and r["modality"] == "ta")
    needle = next(s["text"] for s in victim["segments"] if s["type"] == "text")
    same_text = [r for r in rows if r["task"] in ("SGC", "ASR")
                 and any(s.get("text") == needle for s in r["segments"])]
    server.always_fail[needle] = 500
    args = ["eval", "--model", f"openai:audio-test@{server.base_url}", "--data", str(corpus), "--split", "train",
            "--tasks", "SGC,ASR", "--out", str(out), "-O", f"cache={tmp_path / 'answers.sqlite'}",
            "-O", "retry_base_delay=0.01", "-O", "max_retries=1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output  # written, but something was left out
    predicted = [json.loads(l) for l in (out / "predictions.jsonl").read_text().splitlines()]
    unanswered = [json.loads(l) for l in (out / "unanswered.jsonl").read_text().splitlines()]
    assert {r["id"] for r in unanswered} == {r["id"] for r in same_text}
    assert len(predicted) + len(unanswered) == sum(r["task"] in ("SGC", "ASR") for r in rows)
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["spec"] == f"openai:audio-test@{server.base_url}"
    assert results["model"]["adapter"] == "llaso_plugins.models.openai_chat:load"
    assert results["model"]["openai_client"] and results["model"]["generation"]["temperature"] == 0.0
    assert results["unanswered"] == len(unanswered) and results["system"].startswith("openai:audio-test")
    scored = sum(f["n"] for f in results["files"])
    assert scored == len(predicted)  # the unanswered are not scored (not counted as wrong)
    del server.always_fail[needle]
    asked = server.count
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert server.count == asked + len(unanswered)  # only what was missing is asked
    assert not (out / "unanswered.jsonl").read_text().strip()
    results = json.loads((out / "results.json").read_text())
    assert results["unanswered"] == 0 and sum(f["n"] for f in results["files"]) == len(predicted) + len(unanswered)


def test_a_modality_the_model_cannot_take_is_reported_not_evaluated(server, corpus, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--model", f"openai:audio-test@{server.base_url}", "--data",
                                      str(corpus), "--split", "train", "--tasks", "SGC", "--out", str(out),
                                      "-O", "modalities=[\"ta\"]", "-O", "cache=null"])
    assert result.exit_code == 0, result.output
    assert "pa: not evaluated" in result.output
    results = json.loads((out / "results.json").read_text())
    assert set(results["not_evaluated"]) == {"pa"} and "pa" not in results["modalities"]
    assert set(results["modalities"]) == {"ta"}
