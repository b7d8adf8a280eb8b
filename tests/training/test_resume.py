"""Resume that is exact in every configuration: SpecAugment, dropout in the LLM, data-loader
workers and two ranks, killed with SIGKILL between checkpoints; and re-running a finished run."""

import json
import os
import signal
import time

import attrs
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file
from typer.testing import CliRunner

from llaso_core.model.lslm import LSLMConfig
from llaso_core.training.config import cpu_default
from tests.training.conftest import end_rank, free_port, join_two_rank_launch, tone_corpus

STEPS = 8  # 16 samples, global batch 4 (2 micro-batches of 1 per rank), 2 epochs


def resume_config(out, data):
    base = cpu_default(out=str(out), data=str(data), tasks=("SGC",), modalities=("ta",), stages=("instruct",),
                       workers=1, seed=5, spec_augment=True, save_every=3, micro_batch=1, save_init=False,
                       model=LSLMConfig(llm_options={"config": {"attention_dropout": 0.3}}))
    return attrs.evolve(base, instruct=attrs.evolve(base.instruct, global_batch=4, epochs=2, lr=3e-3,
                                                          task_weights={}))


def _rank(rank, port, data, out, kill_at):
    from llaso_core.training.run import train

    join_two_rank_launch(rank, port)
    said = []

    def progress(log):
        if log.step == kill_at:  # after the step's log line, before the next checkpoint
            os.kill(os.getpid(), signal.SIGKILL)

    train(resume_config(out, data), progress=progress, announce=said.append)
    (out / f"said{rank}.json").write_text(json.dumps(said))
    end_rank()


def two_ranks(data, out, kill_at=None, limit_s=240) -> bool:
    """Run the two ranks; True when they finished, False when they were killed."""
    context = mp.start_processes(_rank, args=(free_port(), data, out, kill_at), nprocs=2, join=False,
                                 start_method="spawn")
    deadline = time.monotonic() + limit_s
    try:
        while not context.join(timeout=5):
            if time.monotonic() > deadline:
                raise AssertionError("the two ranks did not finish in time")
    except mp.ProcessExitedException as exc:
        assert exc.signal_name == "SIGKILL", exc
        for process in context.processes:
            process.kill()
        return False
    return True


def test_killed_two_rank_run_resumes_to_the_same_weights_and_log(tmp_path):
    data = tmp_path / "data"
    tone_corpus(data, n=16)
    assert two_ranks(data, tmp_path / "whole")
    assert not two_ranks(data, tmp_path / "killed", kill_at=5)  # last checkpoint: step 3
    state = torch.load(tmp_path / "killed" / "instruct" / "trainer_state.pt", weights_only=False)
    assert state["step"] == 3
    assert two_ranks(data, tmp_path / "killed")
    said = json.loads((tmp_path / "killed" / "said1.json").read_text())
    assert f"stage instruct: resumed from its checkpoint at step 3 of {STEPS}" in said
    whole = load_file(str(tmp_path / "whole" / "instruct" / "final" / "model.safetensors"))
    resumed = load_file(str(tmp_path / "killed" / "instruct" / "final" / "model.safetensors"))
    unequal = [name for name in whole if not torch.equal(whole[name], resumed[name])]
    assert not unequal, f"{len(unequal)} of {len(whole)} tensors differ, e.g. {unequal[:3]}"
    logs = [[json.loads(line) for line in (tmp_path / run / "instruct" / "metrics.jsonl").read_text().splitlines()]
            for run in ("whole", "killed")]
    assert [line["step"] for line in logs[1]] == list(range(1, STEPS + 1))
    assert [line["loss"] for line in logs[1]] == [line["loss"] for line in logs[0]]
    summaries = [json.loads((tmp_path / run / "summary.json").read_text())[0] for run in ("whole", "killed")]
    for key in ("steps", "first_loss", "last_loss", "samples", "dropped_samples"):
        assert summaries[1][key] == summaries[0][key], key
    assert summaries[1]["samples"] == 2 * 16


def cli_train(out, data, *args):
    from llaso_cli.app import app

    return CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(out), "--preset", "cpu", "--tasks",
                                    "SGC", "--modalities", "ta", "--max-steps", "2", "--micro-batch", "8",
                                    "--save-every", "1", *args])


def test_running_a_finished_run_again_says_so_and_keeps_its_summary(tones, tmp_path):
    _, data = tones
    out = tmp_path / "run"
    first = cli_train(out, data, "--stage", "listen,align")
    assert first.exit_code == 0, first.output
    aligned = json.loads((out / "summary.json").read_text())
    assert [r["stage"] for r in aligned] == ["listen", "align"] and aligned[1]["samples"] == 2 * 16
    every = cli_train(out, data, "--stage", "all")  # the cpu preset's: listen, align, instruct
    assert every.exit_code == 0, every.output
    assert "stage listen: complete (2 steps), kept" in every.output
    assert "stage align: complete (2 steps), kept" in every.output
    summary = json.loads((out / "summary.json").read_text())
    assert [r["stage"] for r in summary] == ["listen", "align", "instruct"]
    assert [{k: v for k, v in row.items() if k != "resumed_from"} for row in summary[:2]] == \
        [{k: v for k, v in row.items() if k != "resumed_from"} for row in aligned]
    assert json.loads((out / "align" / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 2
    again = cli_train(out, data, "--stage", "all")
    assert again.exit_code == 0, again.output
    assert "the run is complete: nothing was trained again" in again.output
    assert json.loads((out / "summary.json").read_text())[2]["samples"] == summary[2]["samples"] == 2 * 16
    assert len((out / "instruct" / "metrics.jsonl").read_text().splitlines()) == 2


def test_a_stage_trained_before_an_earlier_one_is_refused_not_kept(tones, tmp_path):
    """instruct alone, then all (listen, align, instruct): instruct's checkpoint grew from a model the
    earlier stages never trained, so the run stops before listen trains instead of keeping it; the
    error is one line."""
    _, data = tones
    out = tmp_path / "run"
    assert cli_train(out, data, "--stage", "instruct").exit_code == 0
    every = cli_train(out, data, "--stage", "all")
    assert every.exit_code == 2
    assert f"{out / 'instruct'}: stage instruct was trained before stage listen" in " ".join(every.output.split())
    assert not (out / "listen").exists() and not (out / "align").exists()
