"""The listen stage: which samples it learns from, that it teaches the encoder alone to hear, that it
resumes exactly, and how runs and the CLI take it."""

import json
from pathlib import Path

import attrs
import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from llaso_core.data.load import SampleList, SampleView, load_data
from llaso_core.data.sample import Sample
from llaso_core.loader import get_host
from llaso_core.model.lslm import LSLM
from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment
from llaso_core.training.config import StageConfig, TrainConfig, cpu_default
from llaso_core.training.data import Collator, TrainingSet
from llaso_core.training.listen import ListeningHeads, listening, pooled
from llaso_core.training.run import train
from tests.training.conftest import tone_corpus


def sample(id, task, source, target, clips=("a.wav",), modality="ta"):
    segments = (TextSegment("Say it.", "instruction"), *(AudioSegment(AudioRef(c), "input") for c in clips))
    return Sample(id=id, task=task, source=source, query=Query(modality, segments), target=target)


def test_listening_takes_each_clip_once_with_the_class_its_target_names(tmp_path):
    samples = [
        sample("g1", "SGC", "vctk_gender_classification", "The speaker is female."),
        sample("g1-at", "SGC", "vctk_gender_classification", "female", modality="at"),  # same clip again
        sample("g2", "SGC", "vctk_gender_classification", "Male", clips=("b.wav",)),
        sample("g3", "SGC", "vctk_gender_classification", "male or female", clips=("c.wav",)),  # no single label
        sample("asr", "ASR", "librispeech", "hello world", clips=("d.wav",)),  # open-ended
        sample("pitch", "PP", "NSynth_pitch_recognition", "60", clips=("e.wav",)),  # numeric, 0-127
        sample("high", "PP", "NSynth_pitch_recognition", "200", clips=("i.wav",)),  # outside the range
        sample("two", "SGC", "vctk_gender_classification", "male", clips=("f.wav", "g.wav")),  # two clips
        sample("vc", "VC", "velocity_classification", "Velocity 75.", clips=("h.wav",)),
        sample("age", "AR", "vocalsound_age_prediction", "The speaker is 49.", clips=("j.wav",)),  # numeric, 18-80
    ]
    host = get_host()
    plan = listening(SampleView(SampleList(samples, tmp_path), np.arange(len(samples))), host)
    assert [s.id for s in plan.samples] == ["g1", "g2", "pitch", "vc", "age"]
    genders, velocities = (host.tasks.get(t).label_set().labels for t in ("SGC", "VC"))
    assert plan.heads == (("SGC/default", 2), ("PP/default", 128), ("VC/default", len(velocities)),
                          ("AR/fine", 63))
    assert plan.targets == {"g1": (0, genders.index("female")), "g2": (0, genders.index("male")), "pitch": (1, 60),
                            "vc": (2, velocities.index("75")), "age": (3, 49 - 18)}
    assert listening(SampleView(SampleList(samples[4:5], tmp_path), np.arange(1)), host).targets == {}


def listen_config(out, data, **overrides):
    base = cpu_default(out=str(out), data=str(data), tasks=("SGC",), modalities=("ta",), stages=("listen",),
                       workers=0, seed=2, save_init=True)
    listen = attrs.evolve(base.listen, global_batch=8, epochs=5, lr=3e-3)
    return attrs.evolve(base, listen=listen, **{"micro_batch": 4, **overrides})


def held_out_accuracy(run: Path, data: Path) -> float:
    """The listen stage's heads (from its last checkpoint) on held-out tones, through the final encoder."""
    host = get_host()
    model = LSLM.from_pretrained(run / "listen" / "final", host)
    samples = load_data(str(data), host=host, announce=lambda m: None)
    plan = listening(samples, host)
    heads = ListeningHeads(model.encoder, plan)
    state = torch.load(run / "listen" / "trainer_state.pt", weights_only=False)["engine"]["model"]
    heads.heads.load_state_dict({k.removeprefix("heads."): v for k, v in state.items() if k.startswith("heads.")})
    heads.eval()
    dataset = TrainingSet(plan.samples, samples.root, tokenizer=model.tokenizer, featurizer=model.encoder.featurizer,
                          frame_stack=model.projector.stack, audio_token_id=model.audio_token_id, max_length=512)
    batch = Collator(model.encoder.featurizer, model.tokenizer.pad_token_id)([dataset[i] for i in range(len(dataset))])
    with torch.no_grad():
        guesses = heads.heads[0](pooled(*model.encoder(batch.audio_features, batch.audio_lengths))).argmax(-1).tolist()
    return float(np.mean([g == plan.targets[i][1] for g, i in zip(guesses, batch.sample_ids)]))


def test_the_listen_stage_trains_the_encoder_alone_to_hear_the_labels(tmp_path):
    train_data, held_out = tmp_path / "train", tmp_path / "held_out"
    tone_corpus(train_data, n=48, seed=0)
    tone_corpus(held_out, n=24, seed=1)
    said = []
    [result] = train(listen_config(tmp_path / "run", train_data), announce=said.append)
    assert "stage listen: 48 samples, trainable encoder, 1 label-set heads" in said
    assert result.steps == 30 and result.last_loss < result.first_loss
    before, after = (load_file(str(tmp_path / "run" / f / "model.safetensors")) for f in ("init", "listen/final"))
    changed = {name.split(".")[0] for name in before if not torch.equal(before[name], after[name])}
    assert changed == {"encoder"}  # projector and LLM untouched; the heads are not in the model
    assert held_out_accuracy(tmp_path / "run", held_out) >= 0.9


def test_an_interrupted_listen_stage_resumes_to_the_same_encoder(tones, tmp_path):
    _, data = tones

    def stop_at_step_7(log):
        if log.step == 7:
            raise KeyboardInterrupt

    straight = tmp_path / "straight"
    train(listen_config(straight, data, save_every=4), announce=lambda m: None)
    broken = tmp_path / "broken"
    with pytest.raises(KeyboardInterrupt):
        train(listen_config(broken, data, save_every=4), announce=lambda m: None, progress=stop_at_step_7)
    said = []
    train(listen_config(broken, data, save_every=4), announce=said.append)
    assert "stage listen: resumed from its checkpoint at step 4 of 30" in said
    a, b = (load_file(str(run / "listen" / "final" / "model.safetensors")) for run in (straight, broken))
    assert all(torch.equal(a[name], b[name]) for name in a)
    lines = [json.loads(l) for l in (broken / "listen" / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines] == list(range(1, 31))


def test_a_run_without_closed_set_answers_skips_the_listen_stage(tmp_path):
    samples = tone_corpus(tmp_path / "data", n=8)
    from llaso_core.data.store import write_samples

    write_samples(tmp_path / "data" / "train.jsonl", [attrs.evolve(s, target="Not sure.") for s in samples])
    config = listen_config(tmp_path / "run", tmp_path / "data", stages=("listen", "instruct"))
    config = attrs.evolve(config, instruct=attrs.evolve(config.instruct, max_steps=1, task_weights={}))
    said = []
    results = train(config, announce=said.append)
    assert "stage listen: no sample with one clip and a closed-set or numeric answer; skipped" in said
    assert [r.stage for r in results] == ["instruct"]


def test_the_listen_stage_trains_the_encoder_only_and_stages_keep_their_order():
    with pytest.raises(ValueError, match="listen stage trains the encoder only"):
        TrainConfig(listen=StageConfig(lr=1e-3, global_batch=8, trainable=("encoder", "projector")))
    with pytest.raises(ValueError, match="use listen, align, instruct, in that order"):
        TrainConfig(stages=("align", "listen"))
    assert TrainConfig().stages == ("align", "instruct")  # listen: on request
    assert cpu_default().stages == ("listen", "align", "instruct")


def test_llaso_train_runs_the_stages_named_in_order(tones, tmp_path):
    from llaso_cli.app import app

    _, data = tones
    args = ["train", "--data", str(data), "--preset", "cpu", "--tasks", "SGC", "--modalities", "ta",
            "--max-steps", "2", "--micro-batch", "8"]
    only = CliRunner().invoke(app, [*args, "--stage", "listen", "--out", str(tmp_path / "one")])
    assert only.exit_code == 0, only.output
    assert [r["stage"] for r in json.loads((tmp_path / "one" / "summary.json").read_text())] == ["listen"]
    every = CliRunner().invoke(app, [*args, "--stage", "listen,align,instruct", "--out", str(tmp_path / "all")])
    assert every.exit_code == 0, every.output
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert [(r["stage"], r["steps"]) for r in summary] == [("listen", 2), ("align", 2), ("instruct", 2)]
    for wrong in ("both", "align,listen", "listen,listen"):
        refused = CliRunner().invoke(app, [*args, "--stage", wrong, "--out", str(tmp_path / "x")])
        assert refused.exit_code == 2, wrong
        assert f"unknown --stage '{wrong}'; use listen, align, instruct (comma-separated, in that order)" in \
            refused.output


def test_the_listen_stage_runs_under_two_ranks(tones, tmp_path):
    """torchrun with two processes (DDP on gloo): the heads wrap the encoder, both ranks step together."""
    import os
    import subprocess
    import sys

    _, data = tones
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "llaso_cli", "train", "--preset", "cpu", "--backend", "torch", "--data", str(data),
                           "--tasks", "SGC", "--modalities", "ta", "--stage", "listen", "--max-steps", "2",
                           "--micro-batch", "4", "--out", str(out)],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [summary] = json.loads((out / "summary.json").read_text())
    assert summary["stage"] == "listen" and summary["steps"] == 2 and summary["samples"] == 2 * 16
    before, after = (load_file(str(out / f / "model.safetensors")) for f in ("init", "listen/final"))
    assert {name.split(".")[0] for name in before if not torch.equal(before[name], after[name])} == {"encoder"}
