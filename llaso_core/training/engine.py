"""Back-ends: how a step is taken. The loop only calls ``backward``, ``step`` and the state methods.

``TorchEngine``: one device, or DDP when launched with torchrun (``WORLD_SIZE`` > 1).
``DeepSpeedEngine`` (``deepspeed_engine.py``): ZeRO-2/3 through the ``deepspeed`` launcher.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Iterable

import torch
from torch import nn

from llaso_core import distributed


def cosine_schedule(total_steps: int, warmup_ratio: float):
    """Linear warm-up then cosine decay to 0, as a LambdaLR multiplier."""
    warmup = max(1, math.ceil(total_steps * warmup_ratio)) if warmup_ratio > 0 else 0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 where the device supports it (``auto``), never on request of ``fp32``."""
    if precision == "fp32":
        return None
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if precision == "bf16":
        raise RuntimeError(f"bf16 was requested but {device} does not support it")
    return None


def all_reduce_sum(value: float, world_size: int, device: torch.device) -> float:
    """Sum of a host number over ranks (one small collective per step); ``value`` itself in one process."""
    if world_size == 1:
        return value
    tensor = torch.tensor([float(value)], device=device, dtype=torch.float64)
    torch.distributed.all_reduce(tensor)
    return float(tensor.item())


def param_groups(params: Iterable[nn.Parameter] | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The optimizer's groups: parameters, or groups ``{"params": [...], "lr": ...}`` (``optimizer_groups``
    in ``loop.py``), each less its frozen parameters; a plain iterable is one group."""
    items = list(params)
    groups = items if items and isinstance(items[0], dict) else [{"params": items}]
    groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
    return [g for g in groups if g["params"]]


def scheduled_lr(scheduler: torch.optim.lr_scheduler.LambdaLR, base: float) -> float:
    """The stage's ``lr`` as scheduled now (groups with an ``lr_scale`` run at a multiple of it)."""
    return base * scheduler.get_last_lr()[0] / scheduler.base_lrs[0]


class TorchEngine:
    def __init__(self, model: nn.Module, params: Iterable[nn.Parameter] | Iterable[dict[str, Any]], *, lr: float,
                 weight_decay: float, grad_clip: float, total_steps: int, warmup_ratio: float,
                 precision: str = "auto") -> None:
        self.world_size = distributed.world_size()
        self.rank = distributed.rank()
        self.device = distributed.local_device()
        if self.world_size > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.module = model.to(self.device)
        self.model = (nn.parallel.DistributedDataParallel(self.module, find_unused_parameters=True)
                      if self.world_size > 1 else self.module)
        groups = param_groups(params)
        self.params = [p for g in groups for p in g["params"]]
        self.base_lr = lr
        self.optimizer = torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.999))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, cosine_schedule(total_steps, warmup_ratio))
        self.grad_clip = grad_clip
        self.dtype = autocast_dtype(precision, self.device)

    def forward(self, batch, per_sample: bool = False) -> tuple[torch.Tensor, int]:
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            return self.model(batch, per_sample=True) if per_sample else self.model(batch)

    def backward(self, loss: torch.Tensor) -> None:
        # DDP averages gradients over ranks; the loop's loss is already normalised by the whole step's
        # tokens on all ranks, so undo the average to get the plain sum.
        (loss * self.world_size if self.world_size > 1 else loss).backward()

    def accumulating(self, last: bool) -> contextlib.AbstractContextManager:
        """Around one pass (forward + backward): under DDP only a step's last pass reduces gradients
        over the ranks (``no_sync`` on the others, which accumulate locally)."""
        return self.model.no_sync() if self.world_size > 1 and not last else contextlib.nullcontext()

    def step(self) -> float:
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip) if self.grad_clip else torch.tensor(0.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def lr(self) -> float:
        return scheduled_lr(self.scheduler, self.base_lr)

    def gather_weights(self) -> None:
        """Nothing to do: the module already holds plain weights (DeepSpeed's engine gathers them)."""

    def all_reduce_sum(self, value: float) -> float:
        return all_reduce_sum(value, self.world_size, self.device)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
