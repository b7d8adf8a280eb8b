"""DeepSpeed back-end (ZeRO-2/3) with the same interface as ``TorchEngine``.

The DeepSpeed config is generated from the run config (batch sizes, clipping, bf16, ZeRO stage
with the reference ``zero2.json``'s ``overlap_comm``/``contiguous_gradients``); a user JSON
(``TrainConfig.deepspeed_config``) is deep-merged over it, and its ``"auto"`` values take the
generated ones (so the LLaVA/HF-style ``zero2.json`` can be given as is).

Same math as ``TorchEngine``:

- optimizer: a torch ``AdamW`` on the trainable parameters, handed to DeepSpeed as a client
  optimizer (not the config's ``optimizer`` block: that would pick DeepSpeed's FusedAdam or
  CPUAdam, which are JIT-compiled C++/CUDA ops that cannot build everywhere, and it would no
  longer be the same update as the torch back-end). ``fused=True`` on CUDA.
- schedule: the same warm-up + cosine ``LambdaLR`` (``cosine_schedule``).
- gradients: the loop divides each micro-batch's summed loss by the whole step's supervised
  tokens, so a step's gradient must be the plain sum over micro-batches and ranks. DeepSpeed
  divides by ``gradient_accumulation_steps`` (``scale_wrt_gas``) and averages over data-parallel
  ranks: ``backward`` passes ``scale_wrt_gas=False`` and multiplies by the world size.
- accumulation: ``managed_gradient_accumulation: false`` makes every ``step()`` the boundary, so a
  step with fewer micro-batches (end of an epoch, dropped samples) is still exactly one update.
  Releases without that key would ignore it silently: they are refused at start-up, by version.
- precision: under bf16 the fp32 masters start from the fp32 weights handed in, and ``gather_weights()``
  hands the next stage those masters (the module's own copies are bf16).

On the CPU (no accelerator) torch.distributed is initialised with gloo in one process when no
launcher set the environment (``MASTER_ADDR=127.0.0.1``, a free ``MASTER_PORT``, ``RANK=0``,
``WORLD_SIZE=1``, ``LOCAL_RANK=0``); bf16 is off there. No DeepSpeed op is compiled.

Checkpoints: ``save(folder, tag)``/``load(folder, tag)`` use DeepSpeed's own checkpoints (every
rank writes its partition; all ranks must call them). ``state_dict()``/``load_state_dict()`` are
the in-memory form the loop's ``trainer_state.pt`` takes; they are exact for one process with
ZeRO-1/2 and refuse otherwise.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn

from llaso_core import distributed
from llaso_core.training.engine import all_reduce_sum, autocast_dtype, cosine_schedule, param_groups, scheduled_lr

AUTO = "auto"
BUCKET = int(5e8)
DEEPSPEED_FLOOR = "0.19.8"  # the release tested here with managed_gradient_accumulation on ZeRO-2/3


def require_unmanaged_accumulation(engine_class: type, version: str) -> None:
    """DeepSpeed releases without ``managed_gradient_accumulation`` ignore the key silently and step
    only every ``gradient_accumulation_steps`` micro-batches: refuse them, naming the version needed."""
    if not hasattr(engine_class, "managed_gradient_accumulation"):
        raise RuntimeError(f"DeepSpeed {version} does not support managed_gradient_accumulation, which the loop "
                           f"needs (one optimizer step per global batch); install deepspeed>={DEEPSPEED_FLOOR}")


def init_distributed(backend: str | None = None) -> None:
    """Initialise torch.distributed for DeepSpeed; a single process gets a local rendezvous."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return
    if "WORLD_SIZE" not in os.environ or "MASTER_ADDR" not in os.environ:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(_free_port()))
        os.environ.setdefault("RANK", "0")
        os.environ.setdefault("WORLD_SIZE", "1")
        os.environ.setdefault("LOCAL_RANK", "0")
    import deepspeed

    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "gloo":
        # DeepSpeed's CPU back-end JIT-compiles a shared-memory all-reduce op (C++/OpenMP) at init; ZeRO
        # training never uses it (gloo does the collectives). Marking it incompatible skips the build.
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    deepspeed.init_distributed(dist_backend=backend, auto_mpi_discovery=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base`` (nested dicts merged key by key)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_auto(merged: Any, generated: Any) -> Any:
    """Replace ``"auto"`` by the generated value at the same place (dropped where there is none)."""
    if isinstance(merged, dict):
        out = {}
        for key, value in merged.items():
            gen = generated.get(key) if isinstance(generated, dict) else None
            if value == AUTO:
                if gen is not None:
                    out[key] = copy.deepcopy(gen)
                continue
            out[key] = _resolve_auto(value, gen)
        return out
    return merged


def build_config(*, micro_batch: int, global_batch: int, world_size: int, grad_clip: float, bf16: bool,
                 zero_stage: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """The DeepSpeed config of one stage; ``user`` (a parsed JSON) is deep-merged over it."""
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage}")
    if global_batch % (micro_batch * world_size):
        raise ValueError(f"global batch {global_batch} is not a multiple of micro batch {micro_batch} x "
                         f"world size {world_size}")
    zero: dict[str, Any] = {"stage": zero_stage, "overlap_comm": zero_stage >= 2, "contiguous_gradients": True,
                            "reduce_bucket_size": BUCKET, "allgather_bucket_size": BUCKET}
    if zero_stage == 3:
        zero.pop("allgather_bucket_size")
        zero.update({"sub_group_size": int(1e9), "stage3_prefetch_bucket_size": BUCKET,
                     "stage3_param_persistence_threshold": int(1e6), "stage3_max_live_parameters": int(1e9),
                     "stage3_max_reuse_distance": int(1e9), "stage3_gather_16bit_weights_on_model_save": True})
    generated = {
        "train_batch_size": global_batch,
        "train_micro_batch_size_per_gpu": micro_batch,
        "gradient_accumulation_steps": global_batch // (micro_batch * world_size),
        "managed_gradient_accumulation": False,
        "gradient_clipping": float(grad_clip),
        "bf16": {"enabled": bool(bf16)},
        "fp16": {"enabled": False},
        "zero_optimization": zero,
        "steps_per_print": 10**12,
        "wall_clock_breakdown": False,
    }
    if not user:
        return generated
    for block in ("optimizer", "scheduler"):
        if block in user and not _all_auto(user[block].get("params", {})):
            raise ValueError(f"the DeepSpeed config's {block!r} block is not supported: the optimizer (AdamW) and "
                             "the schedule (warm-up + cosine) come from the stage config (lr, warmup_ratio, "
                             "weight_decay); remove the block")
    user = {k: v for k, v in user.items() if k not in ("optimizer", "scheduler")}
    merged = _resolve_auto(deep_merge(generated, user), generated)
    for key in ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps"):
        if merged.get(key) != generated[key]:
            raise ValueError(f"the DeepSpeed config sets {key}={merged.get(key)}, but the run's batch layout gives "
                             f"{generated[key]} (set micro_batch / the stage's global_batch instead, or 'auto')")
    if merged.get("managed_gradient_accumulation", False):
        raise ValueError("managed_gradient_accumulation must stay false: the loop takes one optimizer step per "
                         "global batch, whatever its number of micro-batches")
    return merged


def _all_auto(params: dict[str, Any]) -> bool:
    return all(v == AUTO for v in params.values())


def load_user_config(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise FileNotFoundError(f"cannot read the DeepSpeed config {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"the DeepSpeed config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"the DeepSpeed config {path} must be a JSON object")
    return data


class DeepSpeedEngine:
    """``TorchEngine``'s interface over ``deepspeed.initialize`` (see the module docstring)."""

    def __init__(self, model: nn.Module, params: Iterable[nn.Parameter] | Iterable[dict[str, Any]], *, config, stage,
                 total_steps: int) -> None:
        import deepspeed

        require_unmanaged_accumulation(deepspeed.DeepSpeedEngine, deepspeed.__version__)
        self.device = distributed.local_device()
        init_distributed()
        self.world_size = torch.distributed.get_world_size()
        self.rank = torch.distributed.get_rank()
        self.dtype = autocast_dtype(config.precision, self.device)
        groups = param_groups(params)
        self.params = [p for g in groups for p in g["params"]]
        self.base_lr = stage.lr
        if not self.params:
            raise ValueError("no trainable parameters")
        self.ds_config = build_config(
            micro_batch=min(config.micro_batch, stage.global_batch), global_batch=stage.global_batch,
            world_size=self.world_size, grad_clip=stage.grad_clip, bf16=self.dtype is torch.bfloat16,
            zero_stage=config.zero_stage, user=load_user_config(config.deepspeed_config))
        self.bf16 = bool(self.ds_config.get("bf16", {}).get("enabled"))
        self.zero_stage = int(self.ds_config["zero_optimization"]["stage"])
        extra = {"fused": True} if self.device.type == "cuda" else {}
        optimizer = torch.optim.AdamW(groups, lr=stage.lr, weight_decay=stage.weight_decay,
                                      betas=(0.9, 0.999), **extra)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_schedule(total_steps, stage.warmup_ratio))
        # under bf16 DeepSpeed rounds the module to bf16 and builds the fp32 masters from that: keep the
        # fp32 weights (e.g. a projector trained in the previous stage) and put them back as the masters
        fp32 = [p.detach().clone() for p in self.params] if self.bf16 else []
        self.engine, self.optimizer, _, self.scheduler = deepspeed.initialize(
            model=model, optimizer=optimizer, lr_scheduler=scheduler, config=self.ds_config,
            dist_init_required=False)
        if fp32:
            from deepspeed.utils import safe_set_full_fp32_param

            for p, value in zip(self.params, fp32):
                safe_set_full_fp32_param(p, value.to(torch.float32))
        self.module = model
        self.model = self.engine
        self.total_steps = total_steps
        self.steps_done = 0
        self.released = False

    # -- the loop's interface ---------------------------------------------------------------
    def forward(self, batch, per_sample: bool = False) -> tuple[torch.Tensor, int]:
        if self.bf16:  # DeepSpeed holds the module in bf16; float inputs must follow
            for name in ("audio_features", "audio_frames"):
                value = getattr(batch, name)
                if value is not None and value.is_floating_point():
                    setattr(batch, name, value.to(torch.bfloat16))
        return self.engine(batch, per_sample=True) if per_sample else self.engine(batch)

    def accumulating(self, last: bool) -> contextlib.AbstractContextManager:
        """DeepSpeed schedules its own gradient reduction (ZeRO-2/3 do not allow ``no_sync``)."""
        return contextlib.nullcontext()

    def backward(self, loss: torch.Tensor) -> None:
        # gradients must be the sum over micro-batches and ranks: undo DeepSpeed's 1/GAS and rank mean
        self.engine.backward(loss * self.world_size if self.world_size > 1 else loss, scale_wrt_gas=False)

    def step(self) -> float:
        if self.released:
            raise RuntimeError("DeepSpeedEngine: step() after the stage's last step (the weights were released)")
        self.engine.step()
        norm = self.engine.get_global_grad_norm()
        self.steps_done += 1
        if self.steps_done >= self.total_steps:
            self.gather_weights()
        return float(norm) if norm is not None else 0.0

    def lr(self) -> float:
        return scheduled_lr(self.scheduler, self.base_lr)

    def all_reduce_sum(self, value: float) -> float:
        return all_reduce_sum(value, self.world_size, self.device)

    # -- weights ------------------------------------------------------------------------------
    def gather_weights(self) -> None:
        """Give ``self.module`` back as plain tensors after the stage's last step (called by ``step``
        then): ZeRO-1/2 keep the trainable weights as views into one flat buffer (safetensors refuses
        to save those) and ZeRO-3 keeps only partitions. Trainable weights come back as the fp32
        master weights (under bf16 the module holds bf16 copies), frozen ones as held. All ranks call
        it (gathering is collective). No step may follow."""
        if self.released:
            return
        self.released = True
        from deepspeed.utils import safe_get_full_fp32_param

        full = {}
        for p in self.module.parameters():
            master = safe_get_full_fp32_param(p) if p.requires_grad else None
            if master is None and self.zero_stage == 3:
                import deepspeed

                with deepspeed.zero.GatheredParameters([p], modifier_rank=None):
                    master = p.data
            full[id(p)] = (p.data if master is None else master).detach().clone()
            if self.zero_stage != 3:  # one parameter at a time: no second copy of the model
                p.data = full.pop(id(p))
        if self.zero_stage != 3:
            return
        self.engine.destroy()
        for p in self.module.parameters():
            p.data = full[id(p)]
            for attr in [a for a in vars(p) if a.startswith("ds_")]:
                delattr(p, attr)

    # -- checkpoints --------------------------------------------------------------------------
    def save(self, folder: str | Path, tag: str, keep: int = 2) -> None:
        """DeepSpeed checkpoint ``folder/tag`` (all ranks call it); older tags beyond the ``keep``
        newest are removed, so a crash between this and the trainer state leaves a usable one."""
        folder = Path(folder)
        self.engine.save_checkpoint(str(folder), tag=tag, client_state={"scheduler": self.scheduler.state_dict()})
        if self.world_size > 1:
            torch.distributed.barrier()
        if self.rank == 0:
            tags = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
            for old in tags[:-keep] if keep else []:
                if old.name != tag:
                    shutil.rmtree(old, ignore_errors=True)

    def load(self, folder: str | Path, tag: str) -> None:
        path, client = self.engine.load_checkpoint(str(folder), tag=tag, load_optimizer_states=True,
                                                   load_lr_scheduler_states=True)
        if path is None:
            raise FileNotFoundError(f"no DeepSpeed checkpoint {tag!r} in {folder}")
        if client and "scheduler" in client:
            self.scheduler.load_state_dict(client["scheduler"])
        self.steps_done = self.engine.global_steps

    def state_dict(self) -> dict[str, Any]:
        """In-memory state for one process (exact resume): the model (ZeRO-0/1/2; under ZeRO-3 the
        optimizer's fp32 partition is the whole trainable weight set), the ZeRO optimizer (fp32
        master weights and Adam moments), the schedule and DeepSpeed's step counters."""
        self._check_in_memory("save")
        state = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "global_steps": self.engine.global_steps, "global_samples": self.engine.global_samples}
        if self.zero_stage != 3 or self.released:
            state["model"] = self.module.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_in_memory("load")
        if "model" in state and self.zero_stage != 3:
            self.module.load_state_dict(state["model"])
        if self.zero_stage == 0:
            self.optimizer.load_state_dict(state["optimizer"])
        else:  # the fp32 master partition comes from the saved one (exact under bf16)
            self.optimizer.load_state_dict([state["optimizer"]], load_optimizer_states=True,
                                           load_from_fp32_weights=True)
        self.scheduler.load_state_dict(state["scheduler"])
        self.engine.global_steps = self.steps_done = state.get("global_steps", 0)
        self.engine.global_samples = state.get("global_samples", 0)

    def _check_in_memory(self, what: str) -> None:
        if self.world_size > 1:
            raise RuntimeError(f"DeepSpeedEngine cannot {what} an in-memory state with {self.world_size} ranks "
                               f"(each rank holds its own partition): use engine.{what}(folder, tag) on all ranks")
