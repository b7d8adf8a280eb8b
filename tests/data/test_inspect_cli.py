"""``llaso data inspect``: counts, labels, durations and problems named by file and sample."""

import json
import shutil

from typer.testing import CliRunner

from llaso_cli.app import app
from tests.training.conftest import tone_corpus


def test_inspect_reports_counts_labels_durations_and_broken_audio(tmp_path):
    samples = tone_corpus(tmp_path, n=6)
    (tmp_path / samples[2].audio[0].path).write_bytes(b"not audio at all")
    (tmp_path / samples[3].audio[0].path).unlink()
    result = CliRunner().invoke(app, ["data", "inspect", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["samples"] == 6 and report["by_task"] == {"SGC": 6} and report["by_modality"] == {"ta": 6}
    assert report["labels"]["SGC"] == {"male": 3, "female": 3}
    assert sum(report["durations"].values()) == 4
    problems = {p["sample_id"]: p["kind"] for p in report["audio"]["problems"]}
    assert problems == {samples[2].id: "corrupt", samples[3].id: "missing"}
    table = CliRunner().invoke(app, ["data", "inspect", str(tmp_path)])
    assert table.exit_code == 0 and "labels SGC: male 3, female 3" in table.stdout
    assert "corrupt" in table.output and samples[2].id in table.output


def test_inspect_and_convert_a_llaso_release_folder(tmp_path):
    tone_corpus(tmp_path / "unified", n=4)
    convert = CliRunner().invoke(app, ["data", "convert", str(tmp_path / "unified"), "--to", "llaso",
                                       "--out", str(tmp_path / "llaso")])
    assert convert.exit_code == 0, convert.output
    shutil.copytree(tmp_path / "unified" / "audio", tmp_path / "llaso" / "audio")
    (tmp_path / "llaso" / "mystery_train.json").write_text("[]")
    report = json.loads(CliRunner().invoke(app, ["data", "inspect", str(tmp_path / "llaso"), "--json"]).stdout)
    assert report["samples"] == 4 and report["by_source"] == {"vctk_gender_classification": 4}
    assert report["audio"]["problem_total"] == 0
    assert [u["path"].endswith("mystery_train.json") for u in report["unmapped_files"]] == [True]
    missing = CliRunner().invoke(app, ["data", "inspect", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_inspect_json_lists_bad_records_and_still_counts_the_rest(tmp_path):
    tone_corpus(tmp_path, n=4)
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    lines[1] = '{"id": "broken"'
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    report = json.loads(CliRunner().invoke(app, ["data", "inspect", str(tmp_path), "--json"]).stdout)
    assert report["samples"] == 3
    assert [(b["index"], b["unit"]) for b in report["bad_records"]] == [(2, "line")]
    assert report["bad_records"][0]["reason"].startswith("malformed JSON")


def test_inspect_names_unregistered_tasks_and_targets_that_name_no_label(tmp_path):
    tone_corpus(tmp_path, n=4)
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    rows[0]["task"] = "ZZZ"
    rows[1]["target"] = "The speaker is a robot."
    rows[2]["target"] = "The speaker is female."  # read by SGC's extractor as female: fine
    rows[3]["modality"] = "xx"
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = json.loads(CliRunner().invoke(app, ["data", "inspect", str(tmp_path), "--json", "--no-check-audio"]).stdout)
    assert report["unregistered_tasks"] == {"ZZZ": 1} and report["unregistered_modalities"] == {"xx": 1}
    assert report["unreadable_targets"] == 1
    assert [(u["sample_id"], u["task"], u["target"]) for u in report["unreadable_listed"]] == \
        [(rows[1]["id"], "SGC", "The speaker is a robot.")]
    table = CliRunner().invoke(app, ["data", "inspect", str(tmp_path), "--no-check-audio"])
    assert table.exit_code == 0
    assert "unregistered task: ZZZ: 1 sample(s)" in table.output
    assert "unregistered modality: xx: 1 sample(s)" in table.output
    assert f"not a label: sample {rows[1]['id']} (SGC, set" in table.output and "robot" in table.output
