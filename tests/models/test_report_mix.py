"""``llaso report`` compares any mix: our checkpoint, an adapter, and a release-layout folder scored by llaso score."""

import json

import torch
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.data.store import read_samples
from llaso_core.loader import get_host
from llaso_core.model.lslm import LSLMConfig, build
from llaso_core.training.run import tokenizer_texts
from tests.models.audio_server import AudioChatServer


def test_report_compares_a_checkpoint_an_adapter_and_a_scored_release_folder(corpus, tmp_path):
    torch.manual_seed(0)
    samples = list(read_samples(corpus / "train.jsonl"))
    build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host())).save_pretrained(tmp_path / "ckpt")
    common = ["--data", str(corpus), "--split", "train", "--tasks", "SGC,ASR"]
    run = CliRunner().invoke(app, ["eval", "--model", str(tmp_path / "ckpt"), *common, "--out", str(tmp_path / "ours"),
                                   "--export", str(tmp_path / "release"), "--name", "ours"])
    assert run.exit_code == 0, run.output
    with AudioChatServer() as server:
        run = CliRunner().invoke(app, ["eval", "--model", f"openai:audio-test@{server.base_url}", *common,
                                       "--out", str(tmp_path / "served"), "-O", "cache=null",
                                       "-O", 'modalities=["ta"]'])
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(app, ["score", str(tmp_path / "release"), "--out", str(tmp_path / "scored"),
                                   "--judge", "none", "--judge-cache", str(tmp_path / "j.sqlite")])
    assert run.exit_code == 0, run.output
    files = [tmp_path / d / "results.json" for d in ("ours", "served", "scored")]
    report = CliRunner().invoke(app, ["report", *map(str, files), "--out", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    markdown = (tmp_path / "report" / "report.md").read_text()
    served = json.loads(files[1].read_text())
    for system in ("ours", served["system"], json.loads(files[2].read_text())["system"]):
        assert system in markdown
    assert served["not_evaluated"]["pa"]["samples"] == 2 and "pa" not in served["modalities"]
    pa_row = next(line for line in markdown.splitlines()
                  if line.startswith("| ASR (automatic speech recognition) | wer ↓ | PA |"))
    assert [c.strip() for c in pa_row.split("|")[4:6]] == ["1.000", "—"]  # not evaluated: no cell, not a 0
    ours = json.loads(files[0].read_text())
    assert ours["model"]["kind"] == "lslm" and ours["model"]["generation"]["cache"] == "dynamic"
