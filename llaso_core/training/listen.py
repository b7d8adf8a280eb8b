"""The listen stage: the encoder learns to hear the answers before any LLM reads it.

A linear head per closed or numeric label set reads a clip's mean- and max-pooled encoder frames
and is trained with cross-entropy on the sample's label (a number: the bin of its range it falls
in); projector and LLM do not run. The heads are dropped after the stage (its checkpoints keep
them, for resume): what stays is the encoder. A randomly initialised encoder learns in a few
hundred such steps to carry answers that the LLM's token loss alone takes thousands of steps to
reach it with (benchmarks/README.md, "The listen stage").
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from llaso_core.data.answers import read_target
from llaso_core.data.load import SampleView
from llaso_core.data.sample import Sample
from llaso_core.model.batching import Batch
from llaso_core.model.encoder import AudioEncoder


#: A numeric label set's range is cut into at most this many classes (one per integer when fewer, at least 2).
MAX_BINS = 128


@attrs.frozen
class Listening:
    """The stage's samples, each one's (head, class), and each head's name and number of classes."""

    samples: SampleView
    targets: dict[str, tuple[int, int]]
    heads: tuple[tuple[str, int], ...]


def listening(samples: SampleView, host: Any) -> Listening:
    """The samples a listening head can learn from: one clip, and a target the task's extractor
    reads as one label of a closed set or one number of a numeric one; each clip once (its first
    such sample), so that modalities sharing clips do not repeat them."""
    keep: list[int] = []
    targets: dict[str, tuple[int, int]] = {}
    heads: dict[str, tuple[int, int]] = {}
    clips: set[str] = set()
    for position, sample in zip(samples.positions.tolist(), samples):
        answer = target_class(sample, host) if len(sample.audio) == 1 else None
        if answer is None or sample.audio[0].path in clips:
            continue
        clips.add(sample.audio[0].path)
        name, classes, value = answer
        head, _ = heads.setdefault(name, (len(heads), classes))
        targets[sample.id] = (head, value)
        keep.append(position)
    named = tuple((name, classes) for name, (_, classes) in heads.items())
    return Listening(SampleView(samples.source, np.asarray(keep, dtype=np.int64)), targets, named)


def target_class(sample: Sample, host: Any) -> tuple[str, int, int] | None:
    """(head name ``TASK/label-set``, its number of classes, the target's class). The target is
    read with the task's extractor, as predictions are ("Male." is ``male``): a closed set's class
    is the label's index, a numeric set's the bin of its range the number falls in. None for open
    answers, targets naming no single label or number, unknown tasks, and extractors that fail."""
    reading = read_target(sample, host)
    if reading is None or reading.label_set.kind == "open" or not reading.valid:
        return None
    label_set, value = reading.label_set, reading.value
    name = f"{sample.task}/{label_set.name}"
    if label_set.kind == "closed":
        return name, len(label_set.labels), label_set.labels.index(value)
    low, high = label_set.value_range  # type: ignore[misc]
    bins = max(2, min(MAX_BINS, int(high - low) + 1))
    return name, bins, round((value - low) / (high - low) * (bins - 1))


def pooled(frames: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each clip's mean and max over its valid frames, ``[batch, 2 * dim]``."""
    valid = (torch.arange(frames.shape[1], device=frames.device)[None] < lengths[:, None])[..., None]
    mean = (frames * valid).sum(1) / valid.sum(1).clamp(min=1)
    return torch.cat([mean, frames.masked_fill(~valid, torch.finfo(frames.dtype).min).amax(1)], -1)


class ListeningHeads(nn.Module):
    """The encoder under one linear head per label set; ``forward`` has the LSLM's signature, so the
    training loop and its engines run the stage like any other."""

    def __init__(self, encoder: AudioEncoder, plan: Listening) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleList(nn.Linear(2 * encoder.output_dim, classes) for _, classes in plan.heads)
        self.targets = plan.targets

    def forward(self, batch: Batch, per_sample: bool = True) -> tuple[torch.Tensor, int]:
        """(summed cross-entropy over the batch's samples, number of samples): one clip per sample."""
        frames, lengths = self.encoder(batch.audio_features, batch.audio_lengths)
        clips = pooled(frames, lengths)
        head, label = (torch.tensor(column, device=frames.device)
                       for column in zip(*(self.targets[i] for i in batch.sample_ids)))
        loss = frames.new_zeros((), dtype=torch.float32)
        for h in head.unique().tolist():
            rows = head == h
            loss = loss + nn.functional.cross_entropy(self.heads[h](clips[rows]).float(), label[rows],
                                                      reduction="sum")
        return loss, len(batch.sample_ids)
