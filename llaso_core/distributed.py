"""Process-group helpers shared by training and evaluation under torchrun / deepspeed launchers."""

from __future__ import annotations

import gc
import os


def world_size() -> int:
    """Processes in this launch (``WORLD_SIZE``; 1 when not launched by torchrun or deepspeed)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank in the launch (``RANK``; 0 in a single process)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's device index on its machine (``LOCAL_RANK``; 0 in a single process)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def shutdown_distributed() -> None:
    """Under a multi-process launch, end the process group after a barrier, so that no rank exits
    while collective threads still run (gloo then aborts the process). Engines left in reference
    cycles (a DDP reducer keeps the group and its pending work) are freed first, while the
    interpreter is whole, not during its teardown. A one-process group (DeepSpeed makes one) is
    left alone: later engines in the same process reuse it."""
    import torch.distributed as dist

    if world_size() > 1 and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank of a multi-process launch (no-op in one process). Starts the process
    group if nothing has yet, with the backend the training engine would choose."""
    import torch
    import torch.distributed as dist

    if world_size() == 1:
        return
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(local_rank())
        dist.init_process_group("nccl" if cuda else "gloo")
    dist.barrier()
