"""Training data: samples -> (tokens with audio slots, clips), length-grouped resumable batches.

One dataset, two audio sources: ``DecodedClips`` decodes each clip (features are computed in the
collator, with SpecAugment when asked) and ``CachedFrames`` reads a frozen encoder's frames from
a feature cache (``features.FeatureCache``). Lengths for grouping come from ``SampleView.lengths``
(clip headers read once, stored with the index), never from a header read per sample and stage.

A clip that cannot be used is found when its sample is loaded, not before step 1: the sample
yields None (the collator drops it; the loop runs a zero-weight pass so ranks stay in step) and
one line ``{"sample_id", "path", "kind", "reason"}`` is appended to the run's problem log.

Everything here runs in data-loader workers and is picklable: the tokenizer, the encoder's
featurizer (no weights) and plain settings.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import attrs
import numpy as np
import torch

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.data.audio import AudioPolicy, AudioReport, load_audio
from llaso_core.data.lengths import SampleLengths
from llaso_core.data.load import DataError
from llaso_core.data.release import resolve
from llaso_core.data.sample import Sample
from llaso_core.model.batching import Batch, Encoded, collate, encode
from llaso_core.model.encoder import Featurizer

if TYPE_CHECKING:
    from llaso_core.training.features import FeatureCache

__all__ = ["DataError", "TrainingSet", "DecodedClips", "CachedFrames", "Collator", "GroupedBatches", "Item",
           "spec_augment"]


@attrs.frozen
class Problem:
    """Why a clip gave no audio, or (``usable``) what the length policy changed in it."""

    kind: str
    reason: str
    usable: bool = False


@attrs.frozen
class DecodedClips:
    """Waveforms decoded under ``policy``; features are computed per batch in the collator."""

    policy: AudioPolicy = AudioPolicy()

    def load(self, path: Path) -> tuple[np.ndarray | None, Problem | None]:
        """The clip (None when unusable) and what went wrong or was changed (None when nothing)."""
        report = AudioReport(max_listed=1)
        clip = load_audio(path, self.policy, report=report)
        if clip is None:
            problem = report.problems[0]
            return None, Problem(problem.kind, problem.detail)
        return clip.samples, Problem("altered", clip.alteration, usable=True) if clip.alteration else None

    def frames(self, clip: np.ndarray, featurizer: Featurizer) -> int:
        return featurizer.num_frames(len(clip))

    def max_seconds(self) -> float:
        return self.policy.max_seconds or math.inf

    def batch_audio(self, clips: list[np.ndarray], collator: "Collator", ids: list[str]) -> dict[str, Any]:
        audio = collator.featurizer(clips)
        if collator.augment:
            audio = (spec_augment(audio[0], audio[1], _seed(collator.seed, ids)), audio[1])
        return {"audio": audio}


@attrs.frozen
class CachedFrames:
    """A frozen encoder's frames from ``cache`` (no decoding; the encoder is not run, so no SpecAugment)."""

    cache: "FeatureCache"

    def load(self, path: Path) -> tuple[np.ndarray | None, Problem | None]:
        entry = self.cache.lookup(path)
        if entry is None:
            return None, Problem("missing", f"not in the feature cache {self.cache.folder} (unreadable when it was "
                                            "built, or changed since)")
        return self.cache.frames([path])[0], None

    def frames(self, clip: np.ndarray, featurizer: Featurizer) -> int:
        return int(clip.shape[0])

    def max_seconds(self) -> float:
        return self.cache.policy.max_seconds or math.inf

    def batch_audio(self, clips: list[np.ndarray], collator: "Collator", ids: list[str]) -> dict[str, Any]:
        from llaso_core.training.features import pad_frames

        return {"cached_frames": pad_frames(clips, clips[0].shape[1])[0]}


AudioSource = DecodedClips | CachedFrames


@attrs.frozen
class Item:
    encoded: Encoded
    clips: tuple[np.ndarray, ...]  # waveforms, or cached frames [n_frames, dim]


class TrainingSet(torch.utils.data.Dataset):
    """Samples (resolved under ``root``) with their audio from ``audio``; a sample whose audio
    cannot be used yields None, is counted in ``problems`` and named in ``problem_log``; a clip the
    length policy cut is kept, counted in ``altered`` and named there too (kind ``altered``)."""

    def __init__(self, samples: Sequence[Sample], root: Path, *, tokenizer, featurizer: Featurizer,
                 frame_stack: int, audio_token_id: int, max_length: int, audio: AudioSource = DecodedClips(),
                 lengths: SampleLengths | None = None, problem_log: Path | None = None,
                 chat: ChatTemplate = LLASO_CHAT) -> None:
        self.samples = samples
        self.root = Path(root)
        self.tokenizer = tokenizer
        self.featurizer = featurizer
        self.frame_stack = frame_stack
        self.audio_token_id = audio_token_id
        self.max_length = max_length
        self.audio = audio
        self.sample_lengths = lengths
        self.problem_log = problem_log
        self.chat = chat
        self.problems = 0
        self.altered = 0  # clips the length policy changed (cut), also named in problem_log

    def __len__(self) -> int:
        return len(self.samples)

    def positions(self, encoder_frames: int) -> int:
        return -(-encoder_frames // self.frame_stack)

    def lengths(self) -> np.ndarray:
        """A cheap length per sample for grouping: audio positions (from the clips' durations) +
        text characters / 4."""
        lengths = self.sample_lengths
        if lengths is None:
            from llaso_core.data.load import SampleList, SampleView

            lengths = SampleView(SampleList(self.samples, self.root), np.arange(len(self.samples))).lengths()
        rate, cap = self.featurizer.sample_rate, self.audio.max_seconds()
        seconds, which = np.unique(lengths.seconds, return_inverse=True)  # few distinct values: few calls
        audio = np.array([self.positions(self.featurizer.num_frames(int(min(s, cap) * rate))) if s > 0 else 0
                          for s in seconds.tolist()], dtype=np.int64)
        return audio[which.reshape(-1)] + lengths.text_chars // 4

    def collator(self, pad_id: int, *, augment: bool, seed: int, share_prefix: bool = True) -> "Collator":
        return Collator(self.featurizer, pad_id, audio=self.audio, augment=augment and isinstance(
            self.audio, DecodedClips), seed=seed, share_prefix=share_prefix)

    def __getitem__(self, i: int) -> Item | None:
        sample = self.samples[i]
        clips = []
        for ref in sample.audio:
            path = resolve(self.root, ref)
            clip, problem = self.audio.load(path)
            if problem is not None:
                self._log(sample, path, problem)
            if clip is None:
                return None
            clips.append(clip)
        chat = self.chat.render(sample.query, sample.target)
        encoded = encode(sample.id, chat, self.tokenizer,
                         [self.positions(self.audio.frames(c, self.featurizer)) for c in clips],
                         audio_token_id=self.audio_token_id, max_length=self.max_length)
        return Item(encoded, tuple(clips))

    def _log(self, sample: Sample, path: Path, problem: Problem) -> None:
        if problem.usable:
            self.altered += 1
        else:
            self.problems += 1
        if self.problem_log is not None:  # one short line per write: appends from several processes stay whole
            line = json.dumps({"sample_id": sample.id, "path": str(path), "kind": problem.kind,
                               "reason": problem.reason}, ensure_ascii=False)
            with open(self.problem_log, "a", encoding="utf-8") as f:
                f.write(line + "\n")


@attrs.frozen
class Collator:
    """Items -> Batch: the audio source batches the clips here (in workers): features (with
    SpecAugment when ``augment``) or padded cached frames."""

    featurizer: Featurizer
    pad_id: int
    audio: AudioSource = DecodedClips()
    augment: bool = False
    seed: int = 0
    share_prefix: bool = True  # run the rows' common prompt prefix once (``Batch.shared_prefix``)

    def __call__(self, items: Sequence[Item | None]) -> Batch | None:
        items = [it for it in items if it is not None]
        if not items:
            return None
        clips = [c for it in items for c in it.clips]
        audio = self.audio.batch_audio(clips, self, [it.encoded.sample_id for it in items]) if clips else {}
        return collate([it.encoded for it in items], pad_id=self.pad_id, share_prefix=self.share_prefix, **audio)


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
