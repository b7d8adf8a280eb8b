"""``llaso eval``: generation written per batch, resumable after SIGKILL, scored like ``llaso score``."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.loader import get_host
from llaso_core.model.lslm import LSLMConfig, build
from llaso_core.training.run import tokenizer_texts
from tests.training.conftest import tone_corpus


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    samples = tone_corpus(root / "data", n=40)
    torch.manual_seed(0)
    model = build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host()))
    model.save_pretrained(root / "ckpt")
    return root, samples


def eval_args(root, out, *extra):
    return ["eval", "--model", str(root / "ckpt"), "--data", str(root / "data"), "--split", "train",
            "--tasks", "SGC", "--modalities", "ta", "--out", str(out), *extra]


def test_eval_writes_predictions_results_report_and_release_export(setup, tmp_path):
    root, samples = setup
    result = CliRunner().invoke(app, eval_args(root, tmp_path / "out", "--batch-size", "8",
                                               "--export", str(tmp_path / "release")))
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(s.id for s in samples)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["tasks"]["SGC"]["metrics"]["acc"]["n"] == 40
    assert (tmp_path / "out" / "report" / "report.html").exists()
    exported = tmp_path / "release" / "vctk_gender_classification_test.json"
    rescored = CliRunner().invoke(app, ["score", str(exported), "--out", str(tmp_path / "rescored"),
                                        "--judge", "none", "--judge-cache", str(tmp_path / "c.sqlite")])
    assert rescored.exit_code == 0, rescored.output
    again = json.loads((tmp_path / "rescored" / "results.json").read_text())
    assert again["tasks"]["SGC"]["metrics"]["acc"]["value"] == results["tasks"]["SGC"]["metrics"]["acc"]["value"]


def test_generation_killed_with_sigkill_resumes_without_duplicates_or_losses(setup, tmp_path):
    root, samples = setup
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "llaso_cli", *eval_args(root, out, "--batch-size", "2")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    predictions = out / "predictions.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if predictions.exists() and len(predictions.read_text().splitlines()) >= 6:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(predictions.read_text().splitlines())
    assert 6 <= before < len(samples), "the run should have been killed part-way"
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    ids = [json.loads(l)["id"] for l in predictions.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == len(samples)
    assert set(ids) == {s.id for s in samples}


def test_eval_errors_are_clear(setup, tmp_path):
    root, _ = setup
    result = CliRunner().invoke(app, ["eval", "--model", str(tmp_path / "nope"), "--data", str(root / "data"),
                                      "--split", "train", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a llaso checkpoint" in result.output
    result = CliRunner().invoke(app, eval_args(root, tmp_path / "o", "--judge", "gpt"))
    assert result.exit_code == 2 and "unknown --judge" in result.output


def test_torchrun_shards_the_samples_and_rank_zero_merges(setup, tmp_path):
    root, samples = setup
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29531",
           "-m", "llaso_cli", *eval_args(root, out, "--batch-size", "4")]
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert finished.returncode == 0, finished.stderr[-2000:]
    shards = {p.name: len(p.read_text().splitlines()) for p in out.glob("predictions.rank*.jsonl")}
    assert shards == {"predictions.rank0.jsonl": 20, "predictions.rank1.jsonl": 20}
    ids = [json.loads(l)["id"] for l in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(s.id for s in samples)
    assert json.loads((out / "results.json").read_text())["tasks"]["SGC"]["metrics"]["acc"]["n"] == 40
