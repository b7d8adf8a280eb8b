"""Process-group helpers shared by training and evaluation under torchrun / deepspeed launchers."""

from __future__ import annotations

import gc
import os
from typing import Mapping

import torch

SHARE_ENV = "LLASO_SHARE_GPU"  # "1": ranks beyond the visible GPUs share them (rank modulo GPU count)


def world_size() -> int:
    """Processes in this launch (``WORLD_SIZE``; 1 when not launched by torchrun or deepspeed)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's rank in the launch (``RANK``; 0 in a single process)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's device index on its machine (``LOCAL_RANK``; 0 in a single process)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def choose_device(environ: Mapping[str, str], cuda_devices: int) -> torch.device:
    """The device of the process that ``environ`` describes: ``cuda:LOCAL_RANK`` when there are GPUs
    (one per rank on a node), else the CPU. A rank without a GPU of its own is an error naming the
    counts, unless ``LLASO_SHARE_GPU=1`` lets ranks share the visible GPUs."""
    if cuda_devices == 0:
        return torch.device("cpu")
    local = int(environ.get("LOCAL_RANK", "0"))
    if local >= cuda_devices:
        if environ.get(SHARE_ENV) != "1":
            raise RuntimeError(f"LOCAL_RANK {local} but only {cuda_devices} GPU(s) are visible: launch at most "
                               f"{cuda_devices} process(es) per node, or set {SHARE_ENV}=1 to share GPUs")
        local %= cuda_devices
    return torch.device("cuda", local)


def local_device() -> torch.device:
    """This rank's device, made the current CUDA device (``torch.cuda.set_device``) so that no
    library call lands on GPU 0 by default. Every entry point calls it before any CUDA work."""
    device = choose_device(os.environ, torch.cuda.device_count() if torch.cuda.is_available() else 0)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


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
