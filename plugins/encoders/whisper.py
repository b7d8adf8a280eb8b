"""Whisper's encoder (any size; large-v3 by default) from a local path or a hub id.

Two length modes, the same in training and inference:
- ``trim`` (default): only the mel frames of the clip go through the encoder, with the positional
  table sliced to match; a 10 s clip costs 500 frames instead of 1500.
- ``pad30``: every clip is padded to 30 s as Whisper was trained (and as the LLaSO reference does);
  the output is trimmed to the clip's frames afterwards.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import attrs
import numpy as np
import torch
from torch import nn

from llaso_core.model.encoder import AudioEncoder, conv_out, mask_past, pad_features

LengthMode = Literal["trim", "pad30"]
HOP = 160


@attrs.frozen
class WhisperFeaturizer:
    """Whisper log-mel features; ``trim`` keeps only the clip's frames, ``pad30`` pads to 30 s."""

    feature_extractor: Any
    window: int = 3000  # mel frames in 30 s
    length_mode: str = "trim"
    sample_rate: int = 16000

    def num_mel_frames(self, num_samples: int) -> int:
        return min(max(num_samples // HOP, 1), self.window)

    def num_frames(self, num_samples: int) -> int:
        return conv_out(self.num_mel_frames(num_samples))

    def __call__(self, waveforms: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        window_samples = self.window * HOP
        if self.length_mode == "pad30":
            span = window_samples
        else:  # the batch's longest clip plus the STFT window's reach: the clip's frames are the same as
            # with 30 s of padding (zeros either way), at a fraction of the work (7x for 2-6 s clips)
            span = min(max(len(w) for w in waveforms) + self.feature_extractor.n_fft, window_samples)
        out = self.feature_extractor([np.asarray(w, dtype=np.float32) for w in waveforms], padding="max_length",
                                     max_length=span, sampling_rate=self.sample_rate, return_tensors="pt")
        full = out["input_features"]  # [batch, mels, span / hop]
        lengths = torch.tensor([self.num_mel_frames(len(w)) for w in waveforms], dtype=torch.long)
        if self.length_mode == "pad30":
            return full, lengths
        return pad_features([full[i, :, :n] for i, n in enumerate(lengths.tolist())], multiple=2)


class WhisperAudioEncoder(AudioEncoder):
    def __init__(self, encoder: nn.Module, feature_extractor, length_mode: LengthMode = "trim") -> None:
        super().__init__()
        if length_mode not in ("trim", "pad30"):
            raise ValueError(f"length_mode must be 'trim' or 'pad30', got {length_mode!r}")
        self.encoder = encoder
        self.length_mode = length_mode
        self.output_dim = encoder.config.d_model
        self.featurizer = WhisperFeaturizer(feature_extractor, encoder.config.max_source_positions * 2, length_mode)

    def architecture(self) -> dict:
        return {"config": self.encoder.config.to_dict(), "length_mode": self.length_mode}

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.encoder
        x = nn.functional.gelu(enc.conv1(features.to(enc.conv1.weight.dtype)))  # weights in any dtype
        if self.length_mode == "trim":
            x = mask_past(x, lengths)
        x = nn.functional.gelu(enc.conv2(x)).permute(0, 2, 1)
        x = x + enc.embed_positions.weight[: x.shape[1]].to(x.dtype)
        frame_lengths = (lengths - 1) // 2 + 1
        mask = None
        if self.length_mode == "trim":  # padded frames of shorter clips must not be attended
            keep = torch.arange(x.shape[1], device=x.device)[None, :] < frame_lengths[:, None]
            mask = torch.zeros(keep.shape, dtype=x.dtype, device=x.device).masked_fill(
                ~keep, torch.finfo(x.dtype).min)[:, None, None, :]
        for layer in enc.layers:
            x = layer(x, mask)
            x = x[0] if isinstance(x, tuple) else x
        return enc.layer_norm(x), frame_lengths


def build(checkpoint: str | None = "openai/whisper-large-v3", *, length_mode: LengthMode = "trim",
          config: dict | None = None, **_: object) -> WhisperAudioEncoder:
    """Load the encoder of ``checkpoint``; with ``config`` (a WhisperConfig dict) build it with
    random weights instead (benchmarks at real shapes, tests)."""
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    if config is not None:
        cfg = WhisperConfig(**config)
        encoder = WhisperEncoder(cfg)
        extractor = WhisperFeatureExtractor(feature_size=cfg.num_mel_bins)
    else:
        encoder = WhisperModel.from_pretrained(checkpoint).get_encoder()
        extractor = WhisperFeatureExtractor.from_pretrained(checkpoint)
    return WhisperAudioEncoder(encoder, extractor, length_mode)
