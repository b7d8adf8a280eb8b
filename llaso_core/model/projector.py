"""The projector: (optional frame stacking) -> Linear -> GELU -> Linear, encoder width to LLM width."""

from __future__ import annotations

import torch
from torch import nn


class Projector(nn.Module):
    """``stack`` consecutive frames are concatenated first (fewer LLM positions per second). Frames
    past a clip's length are zeroed before stacking, so a clip's last position does not depend on
    its batch neighbours' padding, and equals the zero-padded cached frames."""

    def __init__(self, in_dim: int, out_dim: int, *, hidden: int | None = None, stack: int = 1) -> None:
        super().__init__()
        if stack < 1:
            raise ValueError("stack must be >= 1")
        self.stack = stack
        hidden = hidden or out_dim
        self.net = nn.Sequential(nn.Linear(in_dim * stack, hidden), nn.GELU(), nn.Linear(hidden, out_dim))

    def num_frames(self, encoder_frames: int) -> int:
        return -(-encoder_frames // self.stack)

    def forward(self, frames: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.stack > 1:
            batch, time, dim = frames.shape
            valid = torch.arange(time, device=frames.device)[None, :] < lengths[:, None]
            frames = frames * valid[..., None].to(frames.dtype)
            pad = (-time) % self.stack
            frames = nn.functional.pad(frames, (0, 0, 0, pad))
            frames = frames.reshape(batch, (time + pad) // self.stack, dim * self.stack)
            lengths = (lengths + self.stack - 1) // self.stack
        return self.net(frames), lengths
