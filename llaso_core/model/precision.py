"""The compute plan: which dtype each model part is held in while training.

Pretrained checkpoints come in any dtype (Llama-3.2 in bf16, Whisper-large-v3 in fp16). AdamW on
half-precision weights rounds most small updates away, so every trainable part is held in fp32
(the master weights; bf16 appears only inside autocast). Frozen parts receive no update and are held
in the autocast dtype to save memory, or in fp32 when there is no autocast (the CPU).
"""

from __future__ import annotations

import torch
from torch import nn

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def dtype_name(dtype: torch.dtype) -> str:
    return {v: k for k, v in DTYPES.items()}[dtype]


def part_dtype(module: nn.Module) -> torch.dtype:
    """The dtype of a part's floating-point weights (float32 for a part without any)."""
    return next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)


def cast_parameters(module: nn.Module, dtype: torch.dtype) -> None:
    """Cast ``module``'s floating-point parameters in place (the same Parameter objects). Buffers keep
    their dtype: e.g. Llama's rotary ``inv_freq`` must stay fp32 (bf16 frequencies are off by up to 0.4%)."""
    for p in module.parameters():
        if p.is_floating_point() and p.dtype != dtype:
            p.data = p.data.to(dtype)


def apply_compute_plan(parts: dict[str, nn.Module], trainable: tuple[str, ...],
                       autocast: torch.dtype | None) -> None:
    """Cast ``parts`` in place: fp32 for the ``trainable`` ones, ``autocast`` (or fp32) for the rest;
    trainable parts go to train mode (``from_pretrained`` hands models over in eval mode), frozen
    ones to eval mode."""
    for name, module in parts.items():
        cast_parameters(module, torch.float32 if name in trainable or autocast is None else autocast)
        module.train(name in trainable)
