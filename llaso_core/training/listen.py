"""The listen stage: the encoder learns to hear the closed-set answers before any LLM reads it.

A linear head per closed-set label set reads a clip's mean- and max-pooled encoder frames and is
trained with cross-entropy on the sample's label; projector and LLM do not run. The heads are
dropped after the stage (its checkpoints keep them, for resume): what stays is the encoder. A
randomly initialised encoder learns in a few hundred such steps to carry answers that the LLM's
token loss alone takes thousands of steps to reach it with (benchmarks/README.md, "The listen stage").
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from llaso_core.data.load import SampleView
from llaso_core.data.sample import Sample
from llaso_core.model.batching import Batch
from llaso_core.model.encoder import AudioEncoder
from llaso_core.specs.task import LabelSet


@attrs.frozen
class Listening:
    """The stage's samples, each one's (head, class), and each head's label set as ``(name, labels)``."""

    samples: SampleView
    targets: dict[str, tuple[int, int]]
    heads: tuple[tuple[str, tuple[str, ...]], ...]


def listening(samples: SampleView, host: Any) -> Listening:
    """The samples a listening head can learn from: one clip, a closed-set label set, a target the
    task's extractor reads as one of its labels; each clip once (its first such sample), so that
    modalities sharing clips do not repeat them."""
    keep: list[int] = []
    targets: dict[str, tuple[int, int]] = {}
    heads: dict[str, tuple[int, tuple[str, ...]]] = {}
    clips: set[str] = set()
    for position, sample in zip(samples.positions.tolist(), samples):
        answer = target_label(sample, host) if len(sample.audio) == 1 else None
        if answer is None or sample.audio[0].path in clips:
            continue
        clips.add(sample.audio[0].path)
        label_set, label = answer
        head, _ = heads.setdefault(f"{sample.task}/{label_set.name}", (len(heads), label_set.labels))
        targets[sample.id] = (head, label_set.labels.index(label))
        keep.append(position)
    named = tuple((name, labels) for name, (_, labels) in heads.items())
    return Listening(SampleView(samples.source, np.asarray(keep, dtype=np.int64)), targets, named)


def target_label(sample: Sample, host: Any) -> tuple[LabelSet, str] | None:
    """The closed label set of a sample's source and the label its target names, read with the
    task's extractor as predictions are ("Male." is ``male``); None for other kinds of answer, targets
    naming no single label, unknown tasks, and extractors that fail."""
    try:
        task = host.tasks.get(sample.task)
        source = next((s for s in task.sources if s.stem == sample.source), None)
        label_set = task.label_set(source.label_set if source is not None else None)
        if label_set.kind != "closed":
            return None
        extract = host.extractors.get(task.extractor_for(source) if source else task.extractor).load()
        label = extract(sample.target, label_set)
    except Exception:  # an unknown task or a broken extractor: the sample is not a listening one
        return None
    return (label_set, label) if label in label_set.labels else None


class ListeningHeads(nn.Module):
    """The encoder under one linear head per label set; ``forward`` has the LSLM's signature, so the
    training loop and its engines run the stage like any other."""

    def __init__(self, encoder: AudioEncoder, plan: Listening) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleList(nn.Linear(2 * encoder.output_dim, len(labels)) for _, labels in plan.heads)
        self.targets = plan.targets

    def forward(self, batch: Batch, per_sample: bool = True) -> tuple[torch.Tensor, int]:
        """(summed cross-entropy over the batch's samples, number of samples): one clip per sample."""
        frames, lengths = self.encoder(batch.audio_features, batch.audio_lengths)
        valid = (torch.arange(frames.shape[1], device=frames.device)[None] < lengths[:, None])[..., None]
        mean = (frames * valid).sum(1) / valid.sum(1).clamp(min=1)
        pooled = torch.cat([mean, frames.masked_fill(~valid, torch.finfo(frames.dtype).min).amax(1)], -1)
        head, label = (torch.tensor(column, device=frames.device)
                       for column in zip(*(self.targets[i] for i in batch.sample_ids)))
        loss = frames.new_zeros((), dtype=torch.float32)
        for h in head.unique().tolist():
            rows = head == h
            loss = loss + nn.functional.cross_entropy(self.heads[h](pooled[rows]).float(), label[rows],
                                                      reduction="sum")
        return loss, len(batch.sample_ids)
