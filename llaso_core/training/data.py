"""Training data: samples -> (tokens with audio slots, waveforms), length-grouped resumable batches.

Everything here runs in data-loader workers and is picklable: the tokenizer, the encoder's
featurizer (no weights) and plain settings.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Sequence

import attrs
import numpy as np
import soundfile
import torch

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.data.audio import AudioPolicy, AudioReport, load_audio
from llaso_core.data.sample import Sample
from llaso_core.model.batching import Batch, Encoded, collate, encode
from llaso_core.model.encoder import Featurizer


class DataError(ValueError):
    """The training data cannot be used as asked (nothing left after filtering, unknown task...)."""


def text_positions(sample: Sample) -> int:
    """Rough token count of a sample's text (characters / 4), for length grouping."""
    chars = sum(len(getattr(s, "text", "")) for s in sample.query.segments) + len(sample.target)
    return chars // 4


@attrs.frozen
class Item:
    encoded: Encoded
    waveforms: tuple[np.ndarray, ...]


class TrainingSet(torch.utils.data.Dataset):
    """Samples with their audio (resolved under ``root``); a sample whose audio cannot be used
    yields None, is counted in ``report`` and dropped by the collator."""

    def __init__(self, samples: Sequence[Sample], root: Path, *, tokenizer, featurizer: Featurizer,
                 frame_stack: int, audio_token_id: int, max_length: int, policy: AudioPolicy = AudioPolicy(),
                 chat: ChatTemplate = LLASO_CHAT) -> None:
        self.samples = list(samples)
        self.root = Path(root)
        self.tokenizer = tokenizer
        self.featurizer = featurizer
        self.frame_stack = frame_stack
        self.audio_token_id = audio_token_id
        self.max_length = max_length
        self.policy = policy
        self.chat = chat
        self.report = AudioReport()

    def __len__(self) -> int:
        return len(self.samples)

    def frames(self, num_samples: int) -> int:
        return -(-self.featurizer.num_frames(num_samples) // self.frame_stack)

    def approx_length(self, i: int) -> int:
        """A cheap length for grouping: text characters / 4 + audio positions (from the file header)."""
        sample = self.samples[i]
        positions = 0
        for ref in sample.audio:
            try:
                info = soundfile.info(str(self.root / ref.path))
                seconds = min(info.frames / info.samplerate, self.policy.max_seconds or math.inf)
                positions += self.frames(int(seconds * self.featurizer.sample_rate))
            except (RuntimeError, OSError):
                positions += 1  # a broken file is reported when the item is loaded
        return positions + text_positions(sample)

    def collator(self, pad_id: int, *, augment: bool, seed: int, share_prefix: bool = True) -> "Collator":
        return Collator(self.featurizer, pad_id, augment=augment, seed=seed, share_prefix=share_prefix)

    def __getitem__(self, i: int) -> Item | None:
        sample = self.samples[i]
        waves = []
        for ref in sample.audio:
            clip = load_audio(self.root / ref.path, self.policy, sample_id=sample.id, report=self.report)
            if clip is None:
                return None
            waves.append(clip.samples)
        chat = self.chat.render(sample.query, sample.target)
        encoded = encode(sample.id, chat, self.tokenizer, [self.frames(len(w)) for w in waves],
                         audio_token_id=self.audio_token_id, max_length=self.max_length)
        return Item(encoded, tuple(waves))


@attrs.frozen
class Collator:
    """Items -> Batch: features computed here (in workers), SpecAugment when ``augment``."""

    featurizer: Featurizer
    pad_id: int
    augment: bool = False
    seed: int = 0
    share_prefix: bool = True  # run the rows' common prompt prefix once (``Batch.shared_prefix``)

    def __call__(self, items: Sequence[Item | None]) -> Batch | None:
        items = [it for it in items if it is not None]
        if not items:
            return None
        waves = [w for it in items for w in it.waveforms]
        audio = self.featurizer(waves) if waves else None
        if audio is not None and self.augment:
            audio = (spec_augment(audio[0], audio[1], _seed(self.seed, [it.encoded.sample_id for it in items])),
                     audio[1])
        return collate([it.encoded for it in items], pad_id=self.pad_id, audio=audio, share_prefix=self.share_prefix)


def spec_augment(features: torch.Tensor, lengths: torch.Tensor, seed: int, *, freq_masks: int = 2,
                 freq_width: int = 15, time_masks: int = 2, time_ratio: float = 0.05) -> torch.Tensor:
    """SpecAugment (frequency and time masking) on ``[batch, mels, time]``, seeded per batch so a
    resumed run sees exactly the same masks."""
    g = torch.Generator().manual_seed(seed)
    out = features.clone()
    fill = features.mean()
    for b in range(out.shape[0]):
        n = int(lengths[b])
        for _ in range(freq_masks):
            width = int(torch.randint(0, freq_width + 1, (1,), generator=g))
            start = int(torch.randint(0, max(1, out.shape[1] - width), (1,), generator=g))
            out[b, start:start + width, :n] = fill
        for _ in range(time_masks):
            width = int(torch.randint(0, max(1, int(n * time_ratio)) + 1, (1,), generator=g))
            start = int(torch.randint(0, max(1, n - width), (1,), generator=g))
            out[b, :, start:start + width] = fill
    return out


def _seed(seed: int, ids: Sequence[str]) -> int:
    digest = hashlib.blake2b(f"{seed}|{'|'.join(ids)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (2**63)


class GroupedBatches:
    """Micro-batches of similar length, grouped one optimizer step (``global_batch`` samples) at a
    time: each epoch shuffles samples with ``seed + epoch``, cuts them into global batches, sorts
    each by length and splits it into micro-batches; ``rank`` takes every ``world``-th one.

    The order is a pure function of (seed, epoch), so resuming at step *k* is exact."""

    def __init__(self, lengths: Sequence[int], *, micro_batch: int, global_batch: int, seed: int,
                 rank: int = 0, world: int = 1) -> None:
        if global_batch % (micro_batch * world):
            raise ValueError(f"global batch {global_batch} is not a multiple of micro batch {micro_batch} "
                             f"x world size {world}")
        self.lengths = np.asarray(lengths)
        self.micro_batch, self.global_batch = micro_batch, global_batch
        self.seed, self.rank, self.world = seed, rank, world

    @property
    def accumulation(self) -> int:
        return self.global_batch // (self.micro_batch * self.world)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.lengths) / self.global_batch)

    def step(self, epoch: int, step: int) -> list[list[int]]:
        """This rank's micro-batches of optimizer step ``step`` of ``epoch``."""
        order = np.random.default_rng(self.seed + epoch).permutation(len(self.lengths))
        group = order[step * self.global_batch:(step + 1) * self.global_batch]
        group = group[np.argsort(-self.lengths[group], kind="stable")]
        micro = [group[i:i + self.micro_batch].tolist() for i in range(0, len(group), self.micro_batch)]
        # every rank must take the same number of micro-batches (collectives would wait forever):
        # at an epoch's end up to world - 1 trailing micro-batches are left out
        micro = micro[: len(micro) - len(micro) % self.world] if self.world > 1 else micro
        return micro[self.rank::self.world]
