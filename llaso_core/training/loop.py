"""One training stage, readable top to bottom: batches in, loss out, backward, step, log, save.

The loss of an optimizer step is the summed token loss of all its micro-batches (on all ranks)
divided by the number of supervised tokens among them (``loss_normalization="samples"``: each
sample's mean token loss, divided by the number of samples), so accumulation does not change the
objective. Checkpoints hold model, optimizer, scheduler, the data position and RNG states:
a run interrupted and resumed reaches the same weights as one that was not.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any, Callable

import attrs
import numpy as np
import torch

from llaso_core import distributed
from llaso_core.model.batching import Batch
from llaso_core.model.lslm import LSLM
from llaso_core.training.config import StageConfig, TrainConfig
from llaso_core.training.data import DataError, GroupedBatches, TrainingSet
from llaso_core.training.engine import TorchEngine

PARTS = {"projector": "projector", "llm": "llm", "encoder": "encoder"}
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


def set_trainable(model: LSLM, parts: tuple[str, ...]) -> list[torch.nn.Parameter]:
    """Freeze everything but ``parts``; return the trainable parameters."""
    for name, module in (("projector", model.projector), ("llm", model.llm), ("encoder", model.encoder)):
        module.requires_grad_(name in parts)
    return [p for p in model.parameters() if p.requires_grad]


def train_stage(model: LSLM, dataset: TrainingSet, config: TrainConfig, stage_name: str, out: Path, *,
                progress: Progress | None = None, resume: bool = True, stop_after: int | None = None) -> StageResult:
    """Train ``model`` for one stage; the final checkpoint folder is ``out / "final"``.

    ``stop_after`` ends the run after that many steps as if interrupted (for resume tests)."""
    stage: StageConfig = config.stage(stage_name)  # type: ignore[arg-type]
    out.mkdir(parents=True, exist_ok=True)
    params = set_trainable(model, stage.trainable)
    world = distributed.world_size()
    batches = GroupedBatches(dataset.lengths(),
                             micro_batch=min(config.micro_batch, stage.global_batch), global_batch=stage.global_batch,
                             seed=config.seed, rank=distributed.rank(), world=world)
    total = stage.max_steps or max(1, math.ceil(stage.epochs * batches.steps_per_epoch))
    engine = make_engine(config, model, params, stage, total)
    model.encoder.train("encoder" in stage.trainable)
    collator = dataset.collator(model.tokenizer.pad_token_id, augment=config.spec_augment, seed=config.seed,
                                share_prefix=config.share_prefix)
    start_step, first_loss = 0, None
    state_path = out / STATE_FILE
    if resume and state_path.exists():
        state = torch.load(state_path, weights_only=False)
        if "engine_tag" in state:  # a sharded (multi-process DeepSpeed) checkpoint
            engine.load(out / "engine", state["engine_tag"])
        else:
            engine.load_state_dict(state["engine"])
        _set_rng(state["rng"])
        start_step, first_loss = state["step"], state["first_loss"]
    log_path = out / "metrics.jsonl"
    started, samples_done, last_loss, dropped = time.perf_counter(), 0, None, 0
    spare: Batch | None = None  # a batch kept for zero-weight passes (see ``passes``)
    per_sample = config.loss_normalization == "samples"
    schedule = _Schedule(batches, start_step, total)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=schedule, collate_fn=collator,
                                         num_workers=config.workers, prefetch_factor=4 if config.workers else None)
    stream = iter(loader)
    for step, (epoch, micro) in enumerate(schedule.steps(), start=start_step):
        t0 = time.perf_counter()
        received = [next(stream) for _ in micro]
        dropped += sum(len(m) - (len(b.sample_ids) if b is not None else 0) for m, b in zip(micro, received))
        loaded = [b.to(engine.device) for b in received if b is not None]
        spare = loaded[0] if loaded else spare
        tokens = int(engine.all_reduce_sum(sum(b.num_targets for b in loaded)))
        units = tokens if not per_sample else int(engine.all_reduce_sum(
            sum(b.num_supervised_samples for b in loaded)))
        step_loss = torch.zeros((), device=engine.device)  # summed on the device: one host sync per step
        runs = passes(loaded, len(received), spare, world)
        for i, (batch, weight) in enumerate(runs):
            with engine.accumulating(last=i == len(runs) - 1):
                loss_sum, _ = engine.forward(batch, per_sample=per_sample)
                loss = loss_sum * weight / max(units, 1)  # normalised over the whole step (tokens or samples)
                engine.backward(loss)
            step_loss += loss.detach().float()
        grad_norm = engine.step()
        loss_value = engine.all_reduce_sum(float(step_loss))
        first_loss = loss_value if first_loss is None else first_loss
        last_loss = loss_value
        dt = time.perf_counter() - t0
        n_samples = int(engine.all_reduce_sum(sum(len(b.sample_ids) for b in loaded)))
        samples_done += n_samples
        log = StepLog(stage_name, step + 1, total, epoch, loss_value, engine.lr(), grad_norm,
                      n_samples / dt, tokens / dt, time.perf_counter() - started)
        if engine.rank == 0:
            with open(log_path, "a") as handle:
                handle.write(json.dumps(attrs.asdict(log)) + "\n")
        if progress:
            progress(log)
        done = step + 1
        if done % config.save_every == 0 or done == total or done == stop_after:
            _save_state(state_path, engine, done, first_loss)
        over = stage.max_minutes is not None and time.perf_counter() - started > 60 * stage.max_minutes
        if done < total and engine.all_reduce_sum(float(over)) > 0:  # all ranks stop together
            _save_state(state_path, engine, done, first_loss)
            total = done
            break
        if stop_after is not None and done >= stop_after and done < total:
            return StageResult(stage_name, done, first_loss, last_loss, samples_done,
                               time.perf_counter() - started, "", dropped)
    final = out / "final"
    engine.release()  # DeepSpeed gathers the weights back into the module
    if engine.rank == 0:
        model.save_pretrained(final)
    return StageResult(stage_name, total, first_loss, last_loss, samples_done, time.perf_counter() - started,
                       str(final), dropped)


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


def make_engine(config: TrainConfig, model: LSLM, params, stage: StageConfig, total: int):
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


def _save_state(path: Path, engine, step: int, first_loss: float | None) -> None:
    """Called on every rank. One process keeps the engine state in ``trainer_state.pt``; several
    DeepSpeed processes each write their shard with ``engine.save`` and the file names the tag."""
    state: dict[str, Any] = {"rng": _rng_state(), "step": step, "first_loss": first_loss}
    if engine.world_size > 1 and hasattr(engine, "save"):
        state["engine_tag"] = f"step{step}"
        engine.save(path.parent / "engine", state["engine_tag"])
    elif engine.rank == 0:
        state["engine"] = engine.state_dict()
    if engine.rank == 0:
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)
