"""One training stage, readable top to bottom: batches in, loss out, backward, step, log, save.

The loss of an optimizer step is the summed token loss of all its micro-batches (on all ranks)
divided by the number of supervised tokens among them (``loss_normalization="samples"``: each
sample's mean token loss, divided by the number of samples), so accumulation does not change the
objective. Checkpoints hold model, optimizer, scheduler, the data position, every rank's RNG
state and the stage's counts (samples, dropped, the ``max_minutes`` clock): a run interrupted and
resumed reaches the same weights and the same log as one that was not.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import attrs
import numpy as np
import torch
from torch import nn

from llaso_core import distributed
from llaso_core.model.batching import Batch
from llaso_core.model.lslm import LSLM, WEIGHTS_FILE
from llaso_core.model.precision import DTYPES, apply_compute_plan
from llaso_core.training.config import StageConfig, TrainConfig
from llaso_core.training.data import DataError, GroupedBatches, TrainingSet
from llaso_core.training.engine import TorchEngine, autocast_dtype
from llaso_core.training.host_memory import trim_host_memory

STATE_FILE = "trainer_state.pt"


@attrs.frozen
class StepLog:
    stage: str
    step: int
    total_steps: int
    epoch: int
    loss: float
    lr: float
    grad_norm: float
    samples_per_s: float
    tokens_per_s: float
    elapsed_s: float


@attrs.frozen
class StageResult:
    stage: str
    steps: int
    first_loss: float | None
    last_loss: float | None
    samples: int
    seconds: float
    checkpoint: str
    dropped_samples: int  # samples whose audio failed to load during training
    skipped_steps: int = 0  # steps whose micro-batches were all dropped (no update, no log line)
    resumed_from: int = 0  # the step this call started at; == steps: the stage was already complete


@attrs.define
class Tally:
    """What a stage has counted so far; saved with every checkpoint, so a resumed stage goes on counting."""

    first_loss: float | None = None
    last_loss: float | None = None
    samples: int = 0
    dropped: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0  # the ``max_minutes`` clock


class _Schedule(torch.utils.data.Sampler):
    """The micro-batches of steps ``start``..``total`` in order (a batch sampler for the DataLoader)."""

    def __init__(self, batches: GroupedBatches, start: int, total: int) -> None:
        self.batches, self.start, self.total = batches, start, total

    def steps(self):
        per_epoch = self.batches.steps_per_epoch
        for step in range(self.start, self.total):
            yield step // per_epoch, self.batches.step(step // per_epoch, step % per_epoch)

    def __iter__(self):
        for _, micro in self.steps():
            yield from micro

    def __len__(self) -> int:
        return sum(len(m) for _, m in self.steps())


Progress = Callable[[StepLog], None]


def set_trainable(model: LSLM, parts: tuple[str, ...], autocast: torch.dtype | None = None) -> list[nn.Parameter]:
    """Freeze everything but ``parts`` and apply the compute plan (``apply_compute_plan``: fp32
    trainable parts in train mode, frozen ones in ``autocast`` dtype or fp32, in eval mode); return
    the trainable parameters."""
    apply_compute_plan(model.parts(), parts, autocast)
    for name, module in model.parts().items():
        module.requires_grad_(name in parts)
    return [p for p in model.parameters() if p.requires_grad]


def optimizer_groups(model: LSLM, stage: StageConfig, params: list[nn.Parameter]) -> list[dict[str, Any]]:
    """``params`` as optimizer groups, one per learning rate: ``stage.lr`` times the ``lr_scale`` of
    the part each belongs to (parameters of no part, e.g. the listen heads: ``stage.lr``), in order."""
    scale = {id(p): stage.lr_scale.get(name, 1.0) for name, module in model.parts().items()
             for p in module.parameters()}
    groups: dict[float, list[nn.Parameter]] = {}
    for p in params:
        groups.setdefault(scale.get(id(p), 1.0), []).append(p)
    return [{"params": group, "lr": stage.lr * s} for s, group in groups.items()]


def train_stage(model: LSLM, dataset: TrainingSet, config: TrainConfig, stage_name: str, out: Path, *,
                progress: Progress | None = None, resume: bool = True, stop_after: int | None = None,
                announce: Callable[[str], None] | None = None, objective: nn.Module | None = None) -> StageResult:
    """Train ``model`` for one stage; the final checkpoint folder is ``out / "final"``. A stage
    folder with a checkpoint is resumed from it (``resume``); a complete one is only reloaded.

    ``objective`` replaces the model's token loss with another module's ``forward(batch) -> (loss
    sum, samples)`` whose own parameters train too (the listen stage's heads, ``listen.py``); the
    loss is then normalised per sample. ``stop_after`` ends the run after that many steps as if
    interrupted (for resume tests)."""
    stage: StageConfig = config.stage(stage_name)  # type: ignore[arg-type]
    out.mkdir(parents=True, exist_ok=True)
    params = set_trainable(model, stage.trainable, autocast_dtype(config.precision, distributed.local_device()))
    if objective is not None:
        known = {id(p) for p in params}
        params += [p for p in objective.parameters() if id(p) not in known]
    world = distributed.world_size()
    batches = GroupedBatches(dataset.lengths(),
                             micro_batch=min(config.micro_batch, stage.global_batch), global_batch=stage.global_batch,
                             seed=config.seed, rank=distributed.rank(), world=world)
    total = stage.max_steps or max(1, math.ceil(stage.epochs * batches.steps_per_epoch))
    engine = make_engine(config, objective or model, optimizer_groups(model, stage, params), stage, total)
    collator = dataset.collator(model.tokenizer.pad_token_id, augment=config.spec_augment, seed=config.seed,
                                share_prefix=config.share_prefix)
    start_step, tally = 0, Tally()
    state_path = out / STATE_FILE
    if resume and state_path.exists():
        start_step, tally, complete = _load_state(state_path, engine)
        total = start_step if complete else total
        if announce:
            announce(f"stage {stage_name}: complete ({start_step} steps), kept" if start_step >= total else
                     f"stage {stage_name}: resumed from its checkpoint at step {start_step} of {total}")
    log_path = out / "metrics.jsonl"
    if engine.rank == 0:
        _keep_metrics(log_path, start_step)
    started = time.perf_counter() - tally.elapsed_s
    spare: Batch | None = None  # a batch kept for zero-weight passes (see ``passes``)
    per_sample = config.loss_normalization == "samples" or objective is not None
    schedule = _Schedule(batches, start_step, total)
    # the loader draws its workers' seeds from its own generator, not the global RNG that the
    # checkpoint restores, so a resumed stage continues the global RNG stream exactly
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=schedule, collate_fn=collator,
                                         num_workers=config.workers, prefetch_factor=4 if config.workers else None,
                                         generator=torch.Generator().manual_seed(config.seed))
    stream = iter(loader)
    for step, (epoch, micro) in enumerate(schedule.steps(), start=start_step):
        t0 = time.perf_counter()
        received = [next(stream) for _ in micro]
        tally.dropped += sum(len(m) - (len(b.sample_ids) if b is not None else 0) for m, b in zip(micro, received))
        loaded = [b.to(engine.device) for b in received if b is not None]
        spare = loaded[0] if loaded and world > 1 else spare
        n_samples = int(engine.all_reduce_sum(sum(len(b.sample_ids) for b in loaded)))
        if n_samples == 0:  # nothing loaded on any rank: no update, the schedule does not advance
            tally.skipped += 1
        else:
            log = _step(engine, loaded, len(received), spare, world, per_sample)
            tally.first_loss = log["loss"] if tally.first_loss is None else tally.first_loss
            tally.last_loss = log["loss"]
            tally.samples += n_samples
            dt = time.perf_counter() - t0
            entry = StepLog(stage_name, step + 1, total, epoch, log["loss"], engine.lr(), log["grad_norm"],
                            n_samples / dt, log["tokens"] / dt, time.perf_counter() - started)
            if engine.rank == 0:
                with open(log_path, "a") as handle:
                    handle.write(json.dumps(attrs.asdict(entry)) + "\n")
            if progress:
                progress(entry)
        del received, loaded  # the step's batches go before the heap is trimmed
        trim_host_memory()
        done = step + 1
        tally.elapsed_s = time.perf_counter() - started
        over = stage.max_minutes is not None and tally.elapsed_s > 60 * stage.max_minutes
        if done < total and engine.all_reduce_sum(float(over)) > 0:  # all ranks stop together
            total = done
        if done % config.save_every == 0 or done == total or done == stop_after:
            _save_state(state_path, engine, done, tally, complete=done == total)
        if done == total:
            break
        if stop_after is not None and done >= stop_after:
            return _result(stage_name, done, tally, "", start_step)
    final = out / "final"
    engine.gather_weights()  # DeepSpeed gathers the fp32 weights back into the module
    if engine.rank == 0 and not (start_step >= total and (final / WEIGHTS_FILE).exists()):
        _save_final(model, final, DTYPES[config.checkpoint_dtype])
    return _result(stage_name, total, tally, str(final), start_step)


def _step(engine, loaded: list[Batch], scheduled: int, spare: Batch | None, world: int,
          per_sample: bool) -> dict[str, float]:
    """One optimizer step over this rank's ``loaded`` micro-batches: the loss over the whole step's
    tokens (or samples) on all ranks, backward, update. Returns the step's loss, grad norm, tokens."""
    tokens = int(engine.all_reduce_sum(sum(b.num_targets for b in loaded)))
    units = tokens if not per_sample else int(engine.all_reduce_sum(sum(b.num_supervised_samples for b in loaded)))
    step_loss = torch.zeros((), device=engine.device)  # summed on the device: one host sync per step
    runs = passes(loaded, scheduled, spare, world)
    for i, (batch, weight) in enumerate(runs):
        with engine.accumulating(last=i == len(runs) - 1):
            loss_sum, _ = engine.forward(batch, per_sample=per_sample)
            loss = loss_sum * weight / max(units, 1)  # normalised over the whole step (tokens or samples)
            engine.backward(loss)
        step_loss += loss.detach().float()
    grad_norm = engine.step()
    return {"loss": engine.all_reduce_sum(float(step_loss)), "grad_norm": grad_norm, "tokens": tokens}


def _result(stage: str, steps: int, tally: Tally, checkpoint: str, start: int) -> StageResult:
    return StageResult(stage, steps, tally.first_loss, tally.last_loss, tally.samples, tally.elapsed_s, checkpoint,
                       tally.dropped, tally.skipped, start)


def _save_final(model: LSLM, final: Path, dtype: torch.dtype) -> None:
    """``model.save_pretrained`` into ``final`` through a temporary folder, so that an interrupted save
    never leaves a half-written final checkpoint."""
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, dtype=dtype)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)


def _keep_metrics(path: Path, step: int) -> None:
    """Drop the log lines of steps after ``step`` (written after the checkpoint a stage resumes from)."""
    if path.exists():
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(line for line in lines if json.loads(line)["step"] <= step))


def passes(loaded: list[Batch], scheduled: int, spare: Batch | None, world: int) -> list[tuple[Batch, float]]:
    """A step's forward/backward passes as (batch, loss weight). Under several ranks every rank must
    run the ``scheduled`` number of passes, since gradients are reduced inside backward: a
    micro-batch whose audio all failed to load becomes a zero-weight pass over ``spare`` (a batch
    this rank loaded earlier). In one process it is simply skipped."""
    runs = [(batch, 1.0) for batch in loaded]
    if world == 1 or len(loaded) == scheduled:
        return runs
    if spare is None:
        raise DataError("every sample of this rank's first micro-batches failed to load, so it cannot take part "
                        "in the step's gradient reduction; check the audio report above")
    return runs + [(spare, 0.0)] * (scheduled - len(loaded))


def make_engine(config: TrainConfig, model: nn.Module, params, stage: StageConfig, total: int):
    backend = config.backend
    if backend == "auto":
        backend = "deepspeed" if torch.cuda.is_available() and _has_deepspeed() else "torch"
    if backend == "deepspeed":
        from llaso_core.training.deepspeed_engine import DeepSpeedEngine

        return DeepSpeedEngine(model, params, config=config, stage=stage, total_steps=total)
    return TorchEngine(model, params, lr=stage.lr, weight_decay=stage.weight_decay, grad_clip=stage.grad_clip,
                       total_steps=total, warmup_ratio=stage.warmup_ratio, precision=config.precision)


def _has_deepspeed() -> bool:
    import importlib.util

    return importlib.util.find_spec("deepspeed") is not None


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _set_rng(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _rng_file(folder: Path, step: int, rank: int) -> Path:
    return folder / "rng" / f"step{step}-rank{rank}.pt"


def _save_state(path: Path, engine, step: int, tally: Tally, complete: bool) -> None:
    """Called on every rank. Each rank writes its own RNG state; one process keeps the engine state
    in ``trainer_state.pt``, several DeepSpeed processes each write their shard with ``engine.save``
    and the file names the tag. ``trainer_state.pt`` is written last (atomically): it is the commit."""
    rng = _rng_file(path.parent, step, engine.rank)
    rng.parent.mkdir(exist_ok=True)
    torch.save(_rng_state(), rng)
    state: dict[str, Any] = {"step": step, "complete": complete, "tally": attrs.asdict(tally)}
    if engine.world_size > 1 and hasattr(engine, "save"):
        state["engine_tag"] = f"step{step}"
        engine.save(path.parent / "engine", state["engine_tag"])
    elif engine.rank == 0:
        state["engine"] = engine.state_dict()
    if engine.world_size > 1:
        torch.distributed.barrier()  # every rank's RNG state is on disk before the commit
    if engine.rank == 0:
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)
        for old in rng.parent.glob("step*-rank*.pt"):
            if not old.name.startswith(f"step{step}-"):
                old.unlink(missing_ok=True)


def _load_state(path: Path, engine) -> tuple[int, Tally, bool]:
    """Restore the engine and this rank's RNG from a checkpoint; (step, tally, complete)."""
    state = torch.load(path, weights_only=False)
    if "engine_tag" in state:  # a sharded (multi-process DeepSpeed) checkpoint
        engine.load(path.parent / "engine", state["engine_tag"])
    else:
        engine.load_state_dict(state["engine"])
    rng = _rng_file(path.parent, state["step"], engine.rank)
    if not rng.exists():
        raise FileNotFoundError(f"{rng} is missing: the checkpoint in {path.parent} was written by fewer ranks "
                                "than this launch has; resume with the same number of processes")
    _set_rng(torch.load(rng, weights_only=False))
    return state["step"], Tally(**state["tally"]), state["complete"]
