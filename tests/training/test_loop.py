import functools
import json

import attrs
import pytest
import torch

from llaso_core.training.config import cpu_default
from llaso_core.training.run import train
from tests.training.conftest import end_rank, free_port, join_two_rank_launch, tone_corpus


def config(out, data, **overrides):
    base = cpu_default(out=str(out), data=str(data), tasks=("SGC",), modalities=("ta",), stages=("instruct",),
                       workers=0, seed=3)
    instruct = attrs.evolve(base.instruct, global_batch=8, epochs=2, lr=3e-3, task_weights={})
    return attrs.evolve(base, instruct=instruct, **{"micro_batch": 4, **overrides})


def weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_training_lowers_the_loss_and_writes_a_checkpoint(tones, tmp_path):
    _, root = tones
    [result] = train(config(tmp_path / "run", root), announce=lambda m: None)
    assert result.steps == 12 and result.dropped_samples == 0
    assert result.last_loss < result.first_loss * 0.7
    lines = [json.loads(l) for l in (tmp_path / "run" / "instruct" / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines] == list(range(1, 13))
    assert all(l["tokens_per_s"] > 0 and l["lr"] >= 0 for l in lines)
    assert (tmp_path / "run" / "instruct" / "final" / "llaso_config.json").exists()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["tasks"] == ["SGC"]


def test_task_weights_shape_the_epoch_and_stage_tasks_missing_from_the_run_fall_back(tones, tmp_path):
    """The stage names a task the run lacks (PP): it trains on the run's tasks and says so; a weight
    of 2 makes the epoch twice as long (twice the steps for the same epochs)."""
    _, root = tones
    base = config(tmp_path / "run", root, stages=("align", "instruct"))
    align = attrs.evolve(base.align, tasks=("PP",), global_batch=8, epochs=1, max_steps=None)
    instruct = attrs.evolve(base.instruct, epochs=1, task_weights={"SGC": 2.0})
    said = []
    first, second = train(attrs.evolve(base, align=align, instruct=instruct), announce=said.append)
    assert any("stage align: none of its tasks (PP) is in this run" in m for m in said)
    assert (first.steps, second.steps) == (6, 12)  # 48 tone samples, batches of 8; weight 2: 96


def test_interrupted_and_resumed_run_matches_uninterrupted(tones, tmp_path):
    from llaso_core.training.loop import train_stage

    _, root = tones
    fresh = functools.partial(fresh_run, root=root)
    cfg, model, dataset = fresh(tmp_path / "a")
    whole = train_stage(model, dataset, cfg, "instruct", tmp_path / "a")
    cfg, model, dataset = fresh(tmp_path / "b")
    partial = train_stage(model, dataset, cfg, "instruct", tmp_path / "b", stop_after=5)
    assert partial.steps == 5 and not (tmp_path / "b" / "final").exists()
    cfg, model, dataset = fresh(tmp_path / "b")  # a new process would start like this
    resumed = train_stage(model, dataset, cfg, "instruct", tmp_path / "b")
    # the counts and the max_minutes clock go on from the checkpoint
    assert (resumed.samples, resumed.first_loss, resumed.resumed_from) == (whole.samples, whole.first_loss, 5)
    assert resumed.seconds > partial.seconds
    a, b = weights(tmp_path / "a" / "final"), weights(tmp_path / "b" / "final")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)


def _ddp_worker(rank, port, root, out, micro_batch):
    from llaso_core.training.loop import train_stage

    join_two_rank_launch(rank, port)
    cfg, model, dataset = fresh_run(out, root, micro_batch=micro_batch)
    result = train_stage(model, dataset, cfg, "instruct", out / f"rank{rank}")
    (out / f"rank{rank}.json").write_text(json.dumps({"steps": result.steps, "dropped": result.dropped_samples}))
    end_rank()


def fresh_run(out, root, **overrides):
    from llaso_core.loader import get_host
    from llaso_core.model.lslm import build
    from llaso_core.training.data import TrainingSet
    from llaso_core.training.run import load_samples, tokenizer_texts

    cfg = config(out, root, **overrides)
    samples = load_samples(cfg, get_host(), announce=lambda m: None)
    torch.manual_seed(cfg.seed)
    model = build(cfg.model, get_host(), texts=tokenizer_texts(samples, get_host()))
    dataset = TrainingSet(samples, samples.root, tokenizer=model.tokenizer, featurizer=model.encoder.featurizer,
                          frame_stack=1, audio_token_id=model.audio_token_id, max_length=cfg.max_length)
    return cfg, model, dataset


def run_two_ranks(root, out, micro_batch: int, limit_s: float = 180) -> None:
    """``_ddp_worker`` on 2 gloo processes; a hang (a collective waiting for a pass that never comes)
    fails the test after ``limit_s`` instead of blocking CI."""
    import time

    import torch.multiprocessing as mp

    context = mp.start_processes(_ddp_worker, args=(free_port(), root, out, micro_batch), nprocs=2, join=False,
                                 start_method="spawn")
    deadline = time.monotonic() + limit_s
    while not context.join(timeout=5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            raise AssertionError("the two ranks did not finish: a collective is waiting for a pass that never came")


def test_two_ranks_keep_step_when_one_micro_batch_loses_all_its_audio(tmp_path):
    """DDP reduces gradients inside backward: a rank whose micro-batch is dropped (its only sample's
    audio is corrupt) must still run as many passes as the other rank, or both wait forever."""
    root = tmp_path / "data"
    tone_corpus(root, n=16)
    (root / "audio" / "tone_5.wav").write_bytes(b"RIFF not really a wave file")
    run_two_ranks(root, tmp_path, micro_batch=1)
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["steps"] for r in reports] == [4, 4]  # 16 samples / global batch 8 x 2 epochs
    assert sum(r["dropped"] for r in reports) == 2  # the broken sample, once per epoch


def test_two_ranks_with_the_shared_prefix_match_one_process(tmp_path):
    """DDP, 2 gloo processes, 2 samples per micro-batch: the LLM runs the rows' shared prompt prefix,
    then each row's rest (its layers twice per forward). The weights equal one process stepping on
    the same global batches (tolerance as for ZeRO vs torch: summation order differs)."""
    from llaso_core.training.loop import train_stage

    root = tmp_path / "data"
    tone_corpus(root, n=16)
    run_two_ranks(root, tmp_path, micro_batch=2)
    cfg, model, dataset = fresh_run(tmp_path, root, micro_batch=2)
    one = train_stage(model, dataset, cfg, "instruct", tmp_path / "one")
    assert one.steps == 4 and json.loads((tmp_path / "rank0.json").read_text())["steps"] == 4
    a, b = weights(tmp_path / "one" / "final"), weights(tmp_path / "rank0" / "final")
    diffs = torch.cat([(b[name] - a[name]).abs().flatten() for name in a])
    assert diffs.max() < 1e-4 and diffs.mean() < 1e-6, (float(diffs.max()), float(diffs.mean()))


def test_a_step_with_nothing_loaded_neither_updates_nor_logs(tmp_path):
    """All 8 samples of the first step have corrupt audio: that step takes no optimizer or schedule
    step and writes no log line (it would log loss 0); the following steps get the schedule's first
    learning rates."""
    from llaso_core.training.data import GroupedBatches
    from llaso_core.training.engine import cosine_schedule
    from llaso_core.training.loop import train_stage

    root = tmp_path / "data"
    tone_corpus(root, n=16)
    cfg = config(tmp_path, root)
    first = GroupedBatches([0] * 16, micro_batch=4, global_batch=8, seed=cfg.seed).step(0, 0)
    for i in (i for micro in first for i in micro):
        (root / "audio" / f"tone_{i}.wav").write_bytes(b"RIFF not really a wave file")
    cfg, model, dataset = fresh_run(tmp_path, root)
    result = train_stage(model, dataset, cfg, "instruct", tmp_path / "run")
    assert result.steps == 4 and result.skipped_steps == 1 and result.dropped_samples >= 8
    lines = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines] == [2, 3, 4] and all(l["loss"] > 0 for l in lines)
    factor = cosine_schedule(4, cfg.instruct.warmup_ratio)
    # the lr logged is the one after the step: the schedule at 1, 2, 3 (not 2, 3, 4)
    assert [l["lr"] for l in lines] == pytest.approx([cfg.instruct.lr * factor(s) for s in (1, 2, 3)])


def test_task_weight_groups_follow_the_label_sets():
    from llaso_core.loader import get_host
    from llaso_core.training.run import DataError, task_weights

    host = get_host()
    resolved = task_weights({"*open": 0.2, "*numeric": 3.0, "asr": 1.0}, host)
    open_tasks = {t.id for t in host.tasks if all(ls.kind == "open" for ls in t.label_sets)}
    assert {t for t, w in resolved.items() if w == 0.2} == open_tasks - {"ASR"} and "AQA" in open_tasks
    assert resolved["ASR"] == 1.0  # the task's own key wins over its group
    assert resolved["PP"] == 3.0 and "AR" not in resolved  # AR mixes closed and numeric label sets: closed
    with pytest.raises(DataError, match="groups are"):
        task_weights({"*loud": 1.0}, host)


def test_lr_scale_sets_a_parts_learning_rate(tones, tmp_path):
    """``lr_scale`` {"encoder": 0.1}: AdamW's first step moves each weight by about lr * sign(grad),
    so the encoder moves a tenth as far as without it; the other parts and the logged lr are unchanged."""
    from llaso_core.training.config import StageConfig
    from llaso_core.training.loop import train_stage

    _, root = tones
    moved = {}
    for name, scale in (("plain", {}), ("scaled", {"encoder": 0.1})):
        cfg, model, dataset = fresh_run(tmp_path / name, root)
        cfg = attrs.evolve(cfg, instruct=attrs.evolve(cfg.instruct, max_steps=2, warmup_ratio=0.0, lr_scale=scale))
        before = {part: [p.detach().clone() for p in module.parameters()] for part, module in model.parts().items()}
        train_stage(model, dataset, cfg, "instruct", tmp_path / name, stop_after=1)
        moved[name] = {part: torch.cat([(p.detach() - b).abs().flatten() for p, b in zip(module.parameters(),
                                                                                        before[part])]).mean().item()
                       for part, module in model.parts().items()}
        logged = json.loads((tmp_path / name / "metrics.jsonl").read_text().splitlines()[0])
        assert logged["lr"] == pytest.approx(cfg.instruct.lr / 2)  # the stage's lr, half-way down the cosine
    assert moved["scaled"]["encoder"] / moved["plain"]["encoder"] == pytest.approx(0.1, rel=0.05)
    for part in ("projector", "llm"):
        assert moved["scaled"][part] == pytest.approx(moved["plain"][part], rel=1e-4)
    with pytest.raises(ValueError, match=r"lr_scale names \['encoder'\], which the stage does not train"):
        StageConfig(lr=1e-3, global_batch=8, trainable=("projector",), lr_scale={"encoder": 0.1})
    with pytest.raises(ValueError, match="multipliers are > 0"):
        StageConfig(lr=1e-3, global_batch=8, trainable=("encoder",), lr_scale={"encoder": 0.0})
