"""``llaso score`` end to end: conformance with the release, unknown files, judge paths, formats."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llaso_cli.app import app
from tests.judge.server import FakeJudgeServer, expected_score

runner = CliRunner()


def score(*args: str, cache: Path, exit_code: int = 0) -> dict:
    result = runner.invoke(app, ["score", *args, "--judge-cache", str(cache)])
    assert result.exit_code == exit_code, result.output
    out = Path(args[args.index("--out") + 1])
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("system", ["LLaSO-Base", "Qwen2-Audio"])
def test_paper_protocol_reproduces_expected_csv(release_dir, tmp_path, system):
    results = score(str(release_dir / system), "--protocol", "paper", "--judge", "none",
                    "--out", str(tmp_path), cache=tmp_path / "judge.sqlite")
    assert results["unknown_files"] == [] and results["problems"] == []
    assert set(results["judge"]["sources"]) == {"recorded"}  # no network, no cache
    got = {(r["file"], r["metric"]): r for r in csv.DictReader(open(tmp_path / "results.csv"))}
    expected = [r for r in csv.DictReader(open(release_dir / "expected.csv")) if r["system"] == system]
    assert len(expected) > 60
    for row in expected:
        mine = got[(row["file"], row["metric"])]
        assert float(mine["value"]) == pytest.approx(float(row["value"]), abs=5e-3), row
        assert int(mine["n"]) == int(row["n"]), row
    assert results["tasks"]["SGC"]["metrics"]["acc"]["files"] == 4
    assert set(results["modalities"]) == {"ta", "at", "pa"}
    assert set(results["modalities"]["at"]) == {"AQA"}
    samples = (tmp_path / "samples.jsonl").read_text().splitlines()
    assert len(samples) == sum(f["n"] for f in results["files"])


def test_unknown_and_broken_files_are_reported_not_skipped(release_dir, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(release_dir / "LLaSO-Base" / "vctk_gender_classification_test.json", inputs)
    (inputs / "my_new_task_test.json").write_text("[]")
    (inputs / "broken_test.jsonl").write_text('{"a": 1}\n{not json\n')
    results = score(str(inputs), "--out", str(tmp_path / "out"), "--judge", "none", cache=tmp_path / "c.sqlite",
                    exit_code=3)  # written, but files were left out
    assert results["complete"] is False
    reasons = {Path(u["path"]).name: u["reason"] for u in results["unknown_files"]}
    assert "my_new_task" in reasons["my_new_task_test.json"]
    assert "broken_test.jsonl:2" in reasons["broken_test.jsonl"]
    assert [f["file"] for f in results["files"]] == ["vctk_gender_classification_test"]


def test_judge_calls_only_for_unjudged_samples_and_caches(release_dir, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    source = json.loads((release_dir / "LLaSO-Base" / "dolly_input_1_test.json").read_text())[:12]
    (inputs / "dolly_input_1_test.json").write_text(json.dumps(source))
    cache = tmp_path / "judge.sqlite"
    offline = score(str(inputs), "--out", str(tmp_path / "o0"), "--judge", "none", cache=cache)
    assert offline["files"][0]["metrics"]["judge"]["n_used"] == 0
    assert any("no judge verdict" in p for p in offline["problems"])
    with FakeJudgeServer() as server:
        first = score(str(inputs), "--out", str(tmp_path / "o1"), "--judge-base-url", server.base_url,
                      "--judge-model", "local", cache=cache)
        assert server.count == 12
        again = score(str(inputs), "--out", str(tmp_path / "o2"), "--judge-base-url", server.base_url,
                      "--judge-model", "local", cache=cache)
        assert server.count == 12  # everything came from the cache
    judge = first["files"][0]["metrics"]["judge"]
    assert judge["n_used"] == 12 and judge["n_invalid"] == 0
    assert judge["value"] == pytest.approx(sum(expected_score(s["answer"].strip()) for s in source) / 12)
    assert again["files"][0]["metrics"]["judge"]["value"] == judge["value"]
    assert first["judge"]["sources"] == {"api": 12} and again["judge"]["sources"] == {"cache": 12}


def test_llaso_format_rows_and_strict_protocol(tmp_path):
    rows = [{"source": "vctk_gender_classification", "modality": "ta", "reference": ref, "prediction": pred}
            for ref, pred in [("Male.", "The speaker is male."), ("Female.", "female"),
                              ("Male.", "male or female"), ("Female.", None)]]
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    results = score(str(path), "--out", str(tmp_path / "out"), "--judge", "none", cache=tmp_path / "c.sqlite")
    acc = results["files"][0]["metrics"]["acc"]
    assert results["protocol"] == "strict"
    assert acc["value"] == pytest.approx(0.5) and acc["n_invalid"] == 2  # abstention + missing
    assert any("no prediction" in p for p in results["problems"])


def test_bad_arguments_are_clear_errors(tmp_path):
    result = runner.invoke(app, ["score", str(tmp_path / "nope.json"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["score", str(tmp_path), "--out", str(tmp_path), "--judge", "gpt"])
    assert result.exit_code == 2 and "unknown --judge" in result.output


def test_a_file_mixing_modalities_is_scored_per_modality(tmp_path):
    """One release-layout file with text-instruction and pure-audio rows of a source (what
    `llaso eval --export` writes for the mini-corpus): each modality gets its own scores."""
    cue = json.loads((Path(__file__).resolve().parents[2] / "plugins" / "modalities" /
                      "pure_audio_cues.json").read_text())["cues"][0]
    rows = [("What is the speaker's gender? Choose from: male, female.<audio>", ["a.wav"], "male", "male"),
            ("Is the speaker male or female?<audio>", ["b.wav"], "female", "female"),
            (f"{cue}<audio>", ["c.wav"], "male", "female"),
            (f"{cue}<audio>", ["d.wav"], "female", "female"),
            (f"{cue}<audio>", ["e.wav"], "female", "male")]
    records = [{"voice": voice, "answer": answer, "conversations": [{"from": "human", "value": turn},
                                                                     {"from": "gpt", "value": reference}]}
               for turn, voice, reference, answer in rows]
    folder = tmp_path / "system"
    folder.mkdir()
    (folder / "vctk_gender_classification_test.json").write_text(json.dumps(records))
    results = score(str(folder), "--judge", "none", "--out", str(tmp_path / "out"), cache=tmp_path / "c.sqlite")
    assert results["modalities"]["ta"]["SGC"]["acc"]["value"] == 1.0
    assert results["modalities"]["pa"]["SGC"]["acc"]["value"] == pytest.approx(1 / 3)
    assert "mixed" not in results["modalities"]
    assert sorted((f["file"], f["modality"]) for f in results["files"]) == [
        ("vctk_gender_classification_test:pa", "pa"), ("vctk_gender_classification_test:ta", "ta")]
    assert results["tasks"]["SGC"]["metrics"]["acc"]["n"] == 5
