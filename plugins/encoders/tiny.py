"""A small random-initialised encoder for tests and the CPU default: log-mel -> 2 strided convs ->
transformer layers. 16 kHz audio gives 25 frames per second."""

from __future__ import annotations

import functools
from typing import Sequence

import attrs
import numpy as np
import torch
import torchaudio
from torch import nn

from llaso_core.model.encoder import AudioEncoder, conv_out, mask_past, pad_features

LOG_FLOOR = 1e-6
HOP = 160


@attrs.frozen
class TinyEncoderConfig:
    n_mels: int = 80
    hidden: int = 192
    layers: int = 2
    heads: int = 4
    max_seconds: float = 30.0


@attrs.frozen
class TinyFeaturizer:
    """Log-mel features (25 ms window, 10 ms hop)."""

    n_mels: int = 80
    sample_rate: int = 16000

    def __call__(self, waveforms: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        mel = _mel(self.sample_rate, self.n_mels)
        with torch.no_grad():
            feats = [torch.log(mel(torch.as_tensor(w, dtype=torch.float32)) + LOG_FLOOR) for w in waveforms]
        return pad_features(feats)

    def num_frames(self, num_samples: int) -> int:
        return conv_out(conv_out(num_samples // HOP + 1))


@functools.lru_cache(maxsize=4)
def _mel(sample_rate: int, n_mels: int) -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=400, hop_length=HOP, n_mels=n_mels)


class TinyEncoder(AudioEncoder):
    def __init__(self, config: TinyEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.output_dim = config.hidden
        self.featurizer = TinyFeaturizer(config.n_mels)
        self.conv1 = nn.Conv1d(config.n_mels, config.hidden, 3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(config.hidden, config.hidden, 3, stride=2, padding=1)
        self.positions = nn.Embedding(self.num_frames(int(config.max_seconds * 16000)) + 1, config.hidden)
        layer = nn.TransformerEncoderLayer(config.hidden, config.heads, 4 * config.hidden, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.hidden)

    def architecture(self) -> dict:
        return attrs.asdict(self.config)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        conv1_lengths = (lengths - 1) // 2 + 1
        x = mask_past(nn.functional.gelu(self.conv1(features.to(self.conv1.weight.dtype))), conv1_lengths)
        x = nn.functional.gelu(self.conv2(x)).transpose(1, 2)
        frame_lengths = (conv1_lengths - 1) // 2 + 1
        x = x + self.positions.weight[: x.shape[1]]
        pad = torch.arange(x.shape[1], device=x.device)[None, :] >= frame_lengths[:, None]
        x = self.layers(x, src_key_padding_mask=pad)
        return self.norm(x), frame_lengths


def build(checkpoint: str | None = None, **options) -> TinyEncoder:
    """A fresh tiny encoder (its weights come with the LSLM checkpoint, not from a hub)."""
    return TinyEncoder(TinyEncoderConfig(**options))
