"""What an encoder plugin provides: features on the CPU, frames on the device, exact frame counts."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn


class AudioEncoder(nn.Module):
    """Base class of encoder plugins.

    ``extract`` runs in data workers (CPU) and returns padded features with their lengths;
    ``forward`` maps them to frames ``[batch, frames, output_dim]`` and frame lengths.
    ``num_frames(num_samples)`` gives the exact number of valid output frames of a clip, so
    collation can lay out the audio positions of a sequence before the encoder runs.
    """

    sample_rate: int = 16000
    output_dim: int

    def extract(self, waveforms: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def num_frames(self, num_samples: int) -> int:
        raise NotImplementedError

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def architecture(self) -> dict:
        """Options that rebuild this encoder with random weights at the same shape (for checkpoints)."""
        raise NotImplementedError


def conv_out(length: int, kernel: int = 3, stride: int = 2, padding: int = 1) -> int:
    """Output length of a 1-D convolution."""
    return (length + 2 * padding - kernel) // stride + 1


def pad_features(feats: Sequence[torch.Tensor], *, multiple: int = 1, value: float = 0.0,
                 min_length: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad ``[channels, time]`` features with ``value`` to ``[batch, channels, max_time]``
    (time at least ``min_length``, rounded up to ``multiple``), with the true lengths."""
    lengths = torch.tensor([f.shape[-1] for f in feats], dtype=torch.long)
    longest = max(int(lengths.max()) if len(feats) else 0, min_length)
    longest = -(-longest // multiple) * multiple
    out = feats[0].new_full((len(feats), feats[0].shape[0], longest), value)
    for i, f in enumerate(feats):
        out[i, :, : f.shape[-1]] = f
    return out, lengths
