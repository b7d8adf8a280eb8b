"""The DeepSpeed back-end on the CPU (gloo, one process): same math as the torch back-end."""

import json

import attrs
import pytest
import torch
from torch import nn

pytest.importorskip("deepspeed")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # DeepSpeed calls deprecated c10d names

from llaso_core.training.config import StageConfig, TrainConfig, cpu_default  # noqa: E402
from llaso_core.training.deepspeed_engine import (  # noqa: E402
    DeepSpeedEngine, build_config, require_unmanaged_accumulation)
from llaso_core.training.engine import TorchEngine  # noqa: E402
from tests.training.conftest import end_rank, free_port, join_two_rank_launch  # noqa: E402

LLAVA_ZERO2 = {  # the reference's scripts/zero2.json (HF-Trainer style, "auto" values)
    "fp16": {"enabled": "auto", "loss_scale": 0, "loss_scale_window": 1000, "initial_scale_power": 16,
             "hysteresis": 2, "min_loss_scale": 1},
    "bf16": {"enabled": "auto"},
    "train_micro_batch_size_per_gpu": "auto",
    "train_batch_size": "auto",
    "gradient_accumulation_steps": "auto",
    "zero_optimization": {"stage": 2, "overlap_comm": True, "contiguous_gradients": True, "sub_group_size": 1e9,
                          "reduce_bucket_size": "auto"},
}


# -- config generation ------------------------------------------------------------------------
def test_generated_config_follows_the_run():
    cfg = build_config(micro_batch=4, global_batch=32, world_size=2, grad_clip=1.0, bf16=True, zero_stage=2)
    assert (cfg["train_batch_size"], cfg["train_micro_batch_size_per_gpu"], cfg["gradient_accumulation_steps"]) == \
        (32, 4, 4)
    assert cfg["gradient_clipping"] == 1.0 and cfg["bf16"]["enabled"] and not cfg["fp16"]["enabled"]
    zero = cfg["zero_optimization"]
    assert zero["stage"] == 2 and zero["overlap_comm"] and zero["contiguous_gradients"]
    assert cfg["managed_gradient_accumulation"] is False
    assert "optimizer" not in cfg and "scheduler" not in cfg
    z3 = build_config(micro_batch=4, global_batch=8, world_size=1, grad_clip=1.0, bf16=False, zero_stage=3)
    assert z3["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"]
    with pytest.raises(ValueError, match="multiple"):
        build_config(micro_batch=3, global_batch=8, world_size=1, grad_clip=1.0, bf16=False, zero_stage=2)


def test_user_json_is_deep_merged_and_auto_takes_the_generated_values():
    cfg = build_config(micro_batch=4, global_batch=16, world_size=1, grad_clip=0.5, bf16=False, zero_stage=2,
                       user=LLAVA_ZERO2)
    assert (cfg["train_batch_size"], cfg["gradient_accumulation_steps"]) == (16, 4)
    assert cfg["bf16"] == {"enabled": False} and cfg["fp16"]["enabled"] is False
    assert cfg["zero_optimization"]["sub_group_size"] == 1e9  # user key kept
    assert cfg["zero_optimization"]["reduce_bucket_size"] == 5e8  # "auto" -> generated
    assert cfg["zero_optimization"]["allgather_bucket_size"] == 5e8  # generated key kept
    merged = build_config(micro_batch=4, global_batch=16, world_size=1, grad_clip=0.5, bf16=False, zero_stage=2,
                          user={"zero_optimization": {"stage": 3}, "gradient_clipping": 2.0})
    assert merged["zero_optimization"]["stage"] == 3 and merged["gradient_clipping"] == 2.0
    with pytest.raises(ValueError, match="train_batch_size"):
        build_config(micro_batch=4, global_batch=16, world_size=1, grad_clip=1.0, bf16=False, zero_stage=2,
                     user={"train_batch_size": 64})
    with pytest.raises(ValueError, match="optimizer"):
        build_config(micro_batch=4, global_batch=16, world_size=1, grad_clip=1.0, bf16=False, zero_stage=2,
                     user={"optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}})


# -- engine-level: gradient sums, accumulation, resume ------------------------------------------
class Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.frozen = nn.Linear(8, 8)
        self.body = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 3))

    def forward(self, batch):
        x, y = batch
        loss = nn.functional.cross_entropy(self.body(self.frozen(x)), y, reduction="sum")
        return loss, int(y.numel())


def toy_steps(n: int, seed: int = 0):
    """Steps of micro-batches of 4; every third step has a single micro-batch (a short last batch)."""
    g = torch.Generator().manual_seed(seed)
    steps = []
    for s in range(n):
        micro = 1 if s % 3 == 2 else 2
        steps.append([(torch.randn(4, 8, generator=g), torch.randint(0, 3, (4,), generator=g)) for _ in range(micro)])
    return steps


def toy_engine(backend: str, zero_stage: int = 2, total: int = 6):
    torch.manual_seed(0)
    model = Toy()
    model.frozen.requires_grad_(False)
    stage = StageConfig(lr=1e-2, global_batch=8, trainable=("projector",), warmup_ratio=0.2, grad_clip=0.5)
    if backend == "torch":
        return model, TorchEngine(model, model.parameters(), lr=stage.lr, weight_decay=0.0,
                                  grad_clip=stage.grad_clip, total_steps=total, warmup_ratio=stage.warmup_ratio,
                                  precision="fp32")
    config = TrainConfig(micro_batch=4, precision="fp32", backend="deepspeed", zero_stage=zero_stage)
    return model, DeepSpeedEngine(model, model.parameters(), config=config, stage=stage, total_steps=total)


def run_steps(engine, steps, rank=0, world=1):
    """What the loop does with this rank's share of each step (every ``world``-th micro-batch):
    each micro-batch's summed loss over the step's tokens on all ranks, one step()."""
    norms = []
    for micro in steps:
        mine = micro[rank::world]
        tokens = int(engine.all_reduce_sum(sum(int(y.numel()) for _, y in mine)))
        for i, batch in enumerate(mine):
            with engine.accumulating(last=i == len(mine) - 1):
                loss_sum, _ = engine.forward(batch)
                engine.backward(loss_sum / tokens)
        norms.append(engine.step())
    return norms


@pytest.mark.parametrize("zero_stage", [2, 3])
def test_step_gradient_is_the_sum_over_micro_batches_like_torch(zero_stage):
    steps = toy_steps(6)
    ref_model, ref = toy_engine("torch")
    ref_norms = run_steps(ref, steps)
    model, engine = toy_engine("deepspeed", zero_stage)
    norms = run_steps(engine, steps)
    # same grad norms (the clip input) and lrs: no 1/GAS scaling, short steps are still one update
    assert norms == pytest.approx(ref_norms, rel=1e-5)
    assert engine.lr() == pytest.approx(ref.lr())
    for (name, a), b in zip(ref_model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6, msg=name)


@pytest.mark.parametrize("zero_stage", [2, 3])
def test_one_optimizer_step_per_global_batch_with_accumulation(zero_stage):
    """Gradient accumulation over 2 micro-batches (and steps of 1): every engine.step() is exactly one
    optimizer update. A DeepSpeed that ignored managed_gradient_accumulation would update every
    2 micro-batches instead (5 updates for these 6 steps of 10 micro-batches, at other boundaries)."""
    steps = toy_steps(6)
    _, engine = toy_engine("deepspeed", zero_stage)
    assert engine.ds_config["gradient_accumulation_steps"] == 2
    updates = []
    engine.optimizer.optimizer.register_step_post_hook(lambda *_: updates.append(1))  # the client AdamW
    run_steps(engine, steps)
    assert len(updates) == len(steps) == engine.engine.global_steps == 6


def test_a_deepspeed_without_unmanaged_accumulation_is_refused_by_name():
    class OldEngine:  # what DeepSpeedEngine looked like before managed_gradient_accumulation
        pass

    with pytest.raises(RuntimeError, match=r"DeepSpeed 0.15.4 does not support managed_gradient_accumulation.*"
                                           r"deepspeed>=0.19.8"):
        require_unmanaged_accumulation(OldEngine, "0.15.4")
    import deepspeed

    require_unmanaged_accumulation(deepspeed.DeepSpeedEngine, deepspeed.__version__)  # the installed one passes


def test_bf16_hands_the_next_stage_fp32_master_weights(tmp_path):
    """Under bf16 DeepSpeed holds bf16 weights and fp32 masters: the masters start from the fp32
    weights it was given (not their bf16 rounding, off by up to 9e-4 here), and after the last step
    the module gets them back, each weight moved by at most lr per step (bf16 copies would round
    most of these moves away)."""
    torch.manual_seed(0)
    model = Toy()
    model.frozen.requires_grad_(False)
    start = {k: v.clone() for k, v in model.state_dict().items()}  # fp32, not bf16-exact
    (tmp_path / "bf16.json").write_text(json.dumps({"bf16": {"enabled": True}}))
    stage = StageConfig(lr=1e-5, global_batch=8, trainable=("projector",), warmup_ratio=0.0, grad_clip=0.0)
    config = TrainConfig(micro_batch=4, precision="fp32", backend="deepspeed",
                         deepspeed_config=str(tmp_path / "bf16.json"))
    engine = DeepSpeedEngine(model, model.parameters(), config=config, stage=stage, total_steps=3)
    assert engine.bf16 and model.body[0].weight.dtype == torch.bfloat16
    steps = toy_steps(3)
    for micro in steps:
        for x, y in micro:
            loss, _ = engine.engine((x.bfloat16(), y))
            engine.backward(loss / 8)
        engine.step()
    assert engine.released and model.body[0].weight.dtype == torch.float32
    moved = torch.cat([(model.state_dict()[k] - start[k]).flatten() for k in start if k.startswith("body.")])
    assert (moved != 0).float().mean() > 0.99, float((moved != 0).float().mean())
    assert moved.abs().max() <= 3 * 1e-5 * 1.01  # AdamW moves a weight by at most lr per step


@pytest.mark.parametrize("zero_stage", [2, 3])
def test_in_memory_state_resumes_exactly(zero_stage):
    steps = toy_steps(6)
    full_model, full = toy_engine("deepspeed", zero_stage)
    run_steps(full, steps)
    _, first = toy_engine("deepspeed", zero_stage)
    run_steps(first, steps[:3])
    state = first.state_dict()
    model, resumed = toy_engine("deepspeed", zero_stage)  # a new process would build the model again
    resumed.load_state_dict(state)
    run_steps(resumed, steps[3:])
    for (name, a), b in zip(full_model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)


def test_deepspeed_checkpoint_folder_resumes_exactly(tmp_path):
    steps = toy_steps(6)
    full_model, full = toy_engine("deepspeed")
    run_steps(full, steps)
    _, first = toy_engine("deepspeed")
    run_steps(first, steps[:2])
    first.save(tmp_path / "ds", "step2")
    run_steps(first, steps[2:3])
    first.save(tmp_path / "ds", "step3")
    first.save(tmp_path / "ds", "step3b")
    assert sorted(p.name for p in (tmp_path / "ds").iterdir() if p.is_dir()) == ["step3", "step3b"]  # keep=2
    model, resumed = toy_engine("deepspeed")
    resumed.load(tmp_path / "ds", "step3")
    run_steps(resumed, steps[3:])
    for (name, a), b in zip(full_model.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)


def _two_rank_worker(rank, port, out, ckpt=None, mode="run"):
    """One rank of a 2-process gloo run over the 2-micro-batch toy steps (one micro-batch per rank,
    as the loop's GroupedBatches deals them). ``mode``: ``run`` all steps; ``save`` all steps, writing
    a sharded checkpoint after the second; ``resume`` load that checkpoint and run the rest."""
    join_two_rank_launch(rank, port)
    if mode == "ddp":
        return _ddp_rank(rank, out)
    model, engine = toy_engine("deepspeed", 2)
    steps = [s for s in toy_steps(6) if len(s) == 2]
    if mode == "resume":
        engine.load(ckpt, "step2")
        norms = run_steps(engine, steps[2:], rank, 2)
    elif mode == "save":
        norms = run_steps(engine, steps[:2], rank, 2)
        engine.save(ckpt, "step2")
        norms += run_steps(engine, steps[2:], rank, 2)
    else:
        norms = run_steps(engine, steps, rank, 2)
    if rank == 0:
        torch.save({"model": model.state_dict(), "norms": norms}, out)
    end_rank()


def four_micro_steps():
    """4 steps of 4 micro-batches: 2 per rank, so a rank accumulates over 2 passes."""
    two = [s for s in toy_steps(12) if len(s) == 2]
    return [two[i] + two[i + 1] for i in range(0, len(two), 2)]


def _ddp_rank(rank, out):
    from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

    model, engine = toy_engine("torch")
    reductions = []

    def counting_hook(state, bucket):
        reductions.append(bucket.index())
        return allreduce_hook(state, bucket)

    engine.model.register_comm_hook(None, counting_hook)
    norms = run_steps(engine, four_micro_steps(), rank, 2)
    if rank == 0:
        torch.save({"model": model.state_dict(), "norms": norms, "reductions": reductions}, out)
    end_rank()


def test_ddp_reduces_once_per_step_and_matches_one_process(tmp_path):
    """Torch engine under DDP (2 gloo processes, 2 micro-batches each per step): gradients are
    reduced on a step's last pass only, and the weights equal one process stepping on all the data."""
    _spawn_two_ranks(str(tmp_path / "rank0.pt"), None, "ddp")
    got = torch.load(tmp_path / "rank0.pt")
    steps = four_micro_steps()
    assert got["reductions"] == [0] * len(steps)  # one bucket, one reduction per step
    ref_model, ref = toy_engine("torch")
    assert got["norms"] == pytest.approx(run_steps(ref, steps), rel=1e-5)
    for name, a in ref_model.state_dict().items():
        torch.testing.assert_close(got["model"][name], a, rtol=0, atol=1e-6, msg=name)


def _spawn_two_ranks(*args) -> None:
    import torch.multiprocessing as mp

    mp.spawn(_two_rank_worker, args=(free_port(), *args), nprocs=2)


def test_two_ranks_sum_gradients_over_ranks(tmp_path):
    """gloo, 2 processes: DeepSpeed averages gradients over ranks; the engine must give the sum (the
    loop already divides by the tokens of all ranks), i.e. the same step as one process on all data."""
    _spawn_two_ranks(str(tmp_path / "rank0.pt"))
    got = torch.load(tmp_path / "rank0.pt")
    ref_model, ref = toy_engine("torch")
    ref_norms = run_steps(ref, [s for s in toy_steps(6) if len(s) == 2])
    assert got["norms"] == pytest.approx(ref_norms, rel=1e-5)
    for name, a in ref_model.state_dict().items():
        torch.testing.assert_close(got["model"][name], a, rtol=0, atol=1e-6, msg=name)


def test_two_rank_zero2_checkpoint_resumes_exactly_in_new_processes(tmp_path):
    """ZeRO-2 partitions the optimizer state over the ranks: two new processes that load the sharded
    checkpoint written mid-run end with exactly the weights of the uninterrupted run."""
    ckpt = str(tmp_path / "ds")
    _spawn_two_ranks(str(tmp_path / "full.pt"), ckpt, "save")
    assert sorted(p.name for p in (tmp_path / "ds" / "step2").iterdir() if "optim" in p.name) == [
        "zero_pp_rank_0_mp_rank_00_optim_states.pt", "zero_pp_rank_1_mp_rank_00_optim_states.pt"]
    _spawn_two_ranks(str(tmp_path / "resumed.pt"), ckpt, "resume")
    full, resumed = torch.load(tmp_path / "full.pt"), torch.load(tmp_path / "resumed.pt")
    assert resumed["norms"] == full["norms"][2:]
    for name, a in full["model"].items():
        torch.testing.assert_close(resumed["model"][name], a, rtol=0, atol=0, msg=name)


# -- the loop on the tone corpus ----------------------------------------------------------------
def tone_config(out, data, **overrides):
    base = cpu_default(out=str(out), data=str(data), tasks=("SGC",), modalities=("ta",), stages=("instruct",),
                       workers=0, seed=3)
    instruct = attrs.evolve(base.instruct, global_batch=8, epochs=2, lr=3e-3, task_weights={})
    return attrs.evolve(base, instruct=instruct, micro_batch=4, **overrides)


@pytest.mark.parametrize("zero_stage", [2, 3])
def test_zero_run_matches_the_torch_backend(tones, tmp_path, zero_stage):
    """Same seed, same data order, same AdamW/clipping/schedule: the first loss is identical and
    the final weights agree closely. Tolerance: the torch back-end takes the clipping norm in
    float32 (clip_grad_norm_ is off by ~1.3e-5 relative on this model against float64), DeepSpeed
    in float64, so the clip coefficients differ at ~1e-5; Adam's m/sqrt(v) then amplifies it for
    coordinates whose gradient is near round-off. Measured: max |dw| ~2e-5 after 12 steps at lr
    3e-3 (the largest possible move is 12 x 3e-3 = 3.6e-2), so 1e-4 max and 1e-6 mean."""
    from safetensors.torch import load_file

    from llaso_core.training.run import train

    _, root = tones
    [ref] = train(tone_config(tmp_path / "torch", root, backend="torch"), announce=lambda m: None)
    # ZeRO-3 partitions the parameters, gathered per module call: the shared prompt prefix calls the LLM's
    # layers twice per forward
    [ds] = train(tone_config(tmp_path / "ds", root, backend="deepspeed", zero_stage=zero_stage),
                 announce=lambda m: None)
    assert ds.steps == ref.steps == 12
    assert ds.first_loss == pytest.approx(ref.first_loss, rel=1e-6)
    assert ds.last_loss < ds.first_loss * 0.7
    assert ds.last_loss == pytest.approx(ref.last_loss, rel=1e-4)
    logs = [json.loads(l) for l in (tmp_path / "ds" / "instruct" / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in logs] == list(range(1, 13)) and all(l["grad_norm"] > 0 for l in logs)
    a = load_file(str(tmp_path / "torch" / "instruct" / "final" / "model.safetensors"))
    b = load_file(str(tmp_path / "ds" / "instruct" / "final" / "model.safetensors"))
    assert a.keys() == b.keys()
    diffs = torch.cat([(b[name].float() - a[name].float()).abs().flatten() for name in a])
    assert diffs.max() < 1e-4 and diffs.mean() < 1e-6, (float(diffs.max()), float(diffs.mean()))


def test_the_listen_stage_runs_under_zero2_like_the_torch_backend(tones, tmp_path):
    """The listen stage hands DeepSpeed the encoder under its heads (not the LSLM), here in two
    optimizer groups (the encoder at half the heads' lr, ``lr_scale``): same first loss, and the
    encoder it saves agrees with the torch back-end's (tolerance as above)."""
    from safetensors.torch import load_file

    from llaso_core.training.run import train

    _, root = tones
    base = tone_config(tmp_path / "x", root, stages=("listen",))
    base = attrs.evolve(base, listen=attrs.evolve(base.listen, global_batch=8, epochs=2, lr=3e-3,
                                                  lr_scale={"encoder": 0.5}))
    [ref] = train(attrs.evolve(base, out=str(tmp_path / "torch"), backend="torch"), announce=lambda m: None)
    [ds] = train(attrs.evolve(base, out=str(tmp_path / "ds"), backend="deepspeed", zero_stage=2),
                 announce=lambda m: None)
    assert ds.steps == ref.steps == 12
    assert ds.first_loss == pytest.approx(ref.first_loss, rel=1e-6)
    a, b = (load_file(str(tmp_path / run / "listen" / "final" / "model.safetensors")) for run in ("torch", "ds"))
    diffs = torch.cat([(b[name].float() - a[name].float()).abs().flatten() for name in a])
    assert diffs.max() < 1e-4 and diffs.mean() < 1e-6, (float(diffs.max()), float(diffs.mean()))
