"""What an encoder plugin provides: a picklable featurizer (CPU, data workers) and the encoder module.

The featurizer turns waveforms into padded features and knows the exact number of output frames
of a clip, so collation can lay out a sequence's audio positions before the encoder runs.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import torch
from torch import nn


class Featurizer(Protocol):
    """Runs in data-loader workers: must be cheap to pickle (no model weights)."""

    sample_rate: int

    def __call__(self, waveforms: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded features ``[batch, channels, time]`` and their lengths."""

    def num_frames(self, num_samples: int) -> int:
        """Valid encoder output frames for a clip of ``num_samples`` samples."""


class AudioEncoder(nn.Module):
    """Base class of encoder plugins: ``forward(features, lengths) -> (frames, frame_lengths)`` with
    frames ``[batch, time, output_dim]``."""

    output_dim: int
    featurizer: Featurizer

    @property
    def sample_rate(self) -> int:
        return self.featurizer.sample_rate

    def extract(self, waveforms: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.featurizer(waveforms)

    def num_frames(self, num_samples: int) -> int:
        return self.featurizer.num_frames(num_samples)

    def architecture(self) -> dict:
        """Options that rebuild this encoder with random weights at the same shape (for checkpoints)."""
        raise NotImplementedError


def conv_out(length: int, kernel: int = 3, stride: int = 2, padding: int = 1) -> int:
    """Output length of a 1-D convolution."""
    return (length + 2 * padding - kernel) // stride + 1


def mask_past(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zero ``x [batch, channels, time]`` past each row's length, so a clip's frames do not depend on
    its batch neighbours (convolutions read one step past the end)."""
    keep = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
    return x * keep.to(x.dtype)[:, None]


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
