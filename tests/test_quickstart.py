"""The README's main job, shortened: synthesise, train both stages, evaluate trained and untrained
models on all 20 tasks, and report (the same commands as scripts/quickstart.sh, smaller)."""

import json

from typer.testing import CliRunner

from llaso_cli.app import app

runner = CliRunner()


def run(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output


def test_quickstart_end_to_end_shortened(tmp_path):
    corpus, train_out = tmp_path / "minicorpus", tmp_path / "train"
    run("data", "synth", "--out", str(corpus), "--per-task", "8", "--workers", "1")
    run("train", "--preset", "cpu", "--data", str(corpus), "--tasks", "all", "--modalities", "ta,at,pa",
        "--out", str(train_out), "--max-steps", "2")
    for name, model in (("trained", train_out / "instruct" / "final"), ("untrained", train_out / "init")):
        run("eval", "--model", str(model), "--data", str(corpus), "--out", str(tmp_path / name), "--name", name,
            "--limit", "2", "--batch-size", "8")
    run("report", str(tmp_path / "trained" / "results.json"), str(tmp_path / "untrained" / "results.json"),
        "--out", str(tmp_path / "report"))
    results = json.loads((tmp_path / "trained" / "results.json").read_text())
    assert len(results["tasks"]) == 20
    assert set(results["modalities"]) == {"ta", "at", "pa"}
    assert results["unknown_files"] == []
    html = (tmp_path / "report" / "report.html").read_text()
    assert "trained" in html and "untrained" in html and html.count("data:image/png;base64,") >= 4
    summary = json.loads((train_out / "summary.json").read_text())
    assert [s["stage"] for s in summary] == ["listen", "align", "instruct"]
