"""From samples to tensors: tokenisation with audio slots, loss masks, and sync-free splice indices.

A sample's chat text holds one audio placeholder per clip. Each placeholder is expanded to as many
placeholder tokens as the clip will have frames after encoder + projector, so every position is
known before the model runs. The batch carries flat index tensors that say which position takes
which frame and which positions are supervised; the model only gathers and scatters with them
(no per-sample Python loops, no ``.item()`` on the device).

Every sample starts with the same system prompt and user header (about 70 Llama-3 tokens). With
``share_prefix`` the batch records how many leading positions all rows share (before any audio or
supervised position), and the model runs them once for the whole batch instead of once per row;
left-padded (generation) batches then put their padding after that prefix.
"""

from __future__ import annotations

from typing import Sequence

import attrs
import numpy as np
import torch

from llaso_core.chat import LLASO_CHAT, RenderedChat

IGNORE = -100


class SampleError(ValueError):
    """A sample cannot be used as given (e.g. its answer would be truncated away)."""


@attrs.frozen
class Encoded:
    """One tokenised sample: ids with audio slots expanded, and the labels (``IGNORE`` outside the
    answer). ``frames`` is the number of slots of each clip, in order."""

    sample_id: str
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    frames: tuple[int, ...]
    slot_starts: tuple[int, ...]  # where each clip's run of audio slots begins
    truncated: bool = False


def encode(sample_id: str, chat: RenderedChat, tokenizer, frames: Sequence[int], *, audio_token_id: int,
           max_length: int, placeholder: str = LLASO_CHAT.audio_placeholder) -> Encoded:
    """Tokenise ``chat``; the loss covers the tokens of ``chat.text`` after ``chat.prompt``.

    The prompt's tokens must be a prefix of the full text's tokens (asserted, so a template change
    that breaks the mask is caught). Answers too long for ``max_length`` are cut; an answer cut away
    entirely, or a prompt that alone exceeds ``max_length``, is an error naming the sample.
    """
    if chat.text.count(placeholder) != len(frames):
        raise SampleError(f"{sample_id}: {chat.text.count(placeholder)} audio slot(s) but {len(frames)} clip(s)")
    full, starts = _expand(tokenizer(chat.text, add_special_tokens=False)["input_ids"], audio_token_id, frames)
    if chat.answer_span is None:
        ids, labels = full, [IGNORE] * len(full)
    else:
        prefix, _ = _expand(tokenizer(chat.prompt, add_special_tokens=False)["input_ids"], audio_token_id, frames)
        if full[: len(prefix)] != prefix:
            raise SampleError(f"{sample_id}: the prompt does not tokenise as a prefix of the full chat text; "
                              "the loss mask would be wrong")
        ids, labels = full, [IGNORE] * len(prefix) + full[len(prefix):]
        if len(prefix) >= max_length:
            raise SampleError(f"{sample_id}: the prompt alone is {len(prefix)} tokens (max_length {max_length}); "
                              "its answer would be truncated away")
    truncated = len(ids) > max_length
    return Encoded(sample_id, tuple(ids[:max_length]), tuple(labels[:max_length]), tuple(frames),
                   tuple(starts), truncated)


def _expand(ids: list[int], audio_token_id: int, frames: Sequence[int]) -> tuple[list[int], list[int]]:
    """Replace each placeholder token by a run of ``frames[i]`` of them; return ids and run starts."""
    out: list[int] = []
    starts: list[int] = []
    clips = iter(frames)
    for token in ids:
        if token == audio_token_id:
            starts.append(len(out))
            out.extend([audio_token_id] * next(clips))
        else:
            out.append(token)
    return out, starts


@attrs.define
class Batch:
    """Tensors of one micro-batch (right-padded for training, left-padded for generation).

    ``splice_rows/cols`` are the positions that take audio frames, ``splice_clip/frame`` which frame
    of the projector output ``[clips, frames, dim]`` each takes; ``loss_rows/cols/targets`` are
    the supervised positions (predicting ``targets`` from the position before).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    audio_features: torch.Tensor | None
    audio_lengths: torch.Tensor | None
    audio_frames: torch.Tensor | None  # cached encoder output instead of features
    splice_rows: torch.Tensor
    splice_cols: torch.Tensor
    splice_clip: torch.Tensor
    splice_frame: torch.Tensor
    loss_rows: torch.Tensor
    loss_cols: torch.Tensor
    loss_targets: torch.Tensor
    loss_weights: torch.Tensor  # 1 / (supervised tokens of the target's sample): per-sample averaging
    sample_ids: list[str]
    shared_prefix: int = 0  # leading positions identical in every row (no audio, no loss): run once

    @property
    def num_targets(self) -> int:
        return int(self.loss_targets.numel())

    @property
    def num_supervised_samples(self) -> int:
        return int(self.loss_rows.unique().numel())

    def to(self, device: torch.device | str, non_blocking: bool = True) -> "Batch":
        def move(x):
            return x.to(device, non_blocking=non_blocking) if isinstance(x, torch.Tensor) else x
        return Batch(**{f.name: move(getattr(self, f.name)) for f in attrs.fields(Batch)})


def collate(encoded: Sequence[Encoded], *, pad_id: int,
            audio: tuple[torch.Tensor, torch.Tensor] | None = None, cached_frames: torch.Tensor | None = None,
            left_pad: bool = False, share_prefix: bool = False) -> Batch:
    """Pad ``encoded`` into a batch. ``audio`` is (features, lengths) of all clips in order; or
    ``cached_frames`` ``[clips, frames, dim]`` when the encoder output is cached. With
    ``share_prefix`` (and more than one row) ``Batch.shared_prefix`` is set, and left padding goes
    after the shared prefix so that it stays at the same positions in every row."""
    longest = max(len(e.input_ids) for e in encoded)
    prefix = shared_prefix(encoded) if share_prefix and len(encoded) > 1 else 0
    ids = torch.full((len(encoded), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(encoded), longest), dtype=torch.long)
    splice_rows, splice_cols, splice_clip, splice_frame = [], [], [], []
    loss_rows, loss_cols, loss_targets, loss_weights = [], [], [], []
    clip = 0
    for row, e in enumerate(encoded):
        n = len(e.input_ids)
        shift = longest - n if left_pad else 0  # tokens from ``prefix`` on move right by ``shift``
        columns = np.arange(n) + np.where(np.arange(n) >= prefix, shift, 0)
        ids[row, torch.from_numpy(columns)] = torch.tensor(e.input_ids)
        mask[row, torch.from_numpy(columns)] = 1
        labels = np.asarray(e.labels)
        for frames, start in zip(e.frames, e.slot_starts):
            splice_rows.append(np.full(frames, row))
            splice_cols.append(columns[start:start + frames])
            splice_clip.append(np.full(frames, clip))
            splice_frame.append(np.arange(frames))
            clip += 1
        supervised = np.nonzero(labels[1:] != IGNORE)[0]  # position p predicts token p + 1
        loss_rows.append(np.full(len(supervised), row))
        loss_cols.append(columns[supervised])
        loss_targets.append(labels[1:][supervised])
        loss_weights.append(np.full(len(supervised), 1.0 / max(len(supervised), 1)))
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return Batch(
        input_ids=ids, attention_mask=mask, position_ids=positions,
        audio_features=audio[0] if audio else None, audio_lengths=audio[1] if audio else None,
        audio_frames=cached_frames,
        splice_rows=_cat(splice_rows), splice_cols=_cat(splice_cols), splice_clip=_cat(splice_clip),
        splice_frame=_cat(splice_frame),
        loss_rows=_cat(loss_rows), loss_cols=_cat(loss_cols), loss_targets=_cat(loss_targets),
        loss_weights=torch.from_numpy(np.concatenate(loss_weights)).float() if loss_weights else torch.zeros(0),
        sample_ids=[e.sample_id for e in encoded], shared_prefix=prefix)


def shared_prefix(encoded: Sequence[Encoded]) -> int:
    """Leading tokens common to all of ``encoded`` that the model can run once: before every audio
    slot and every supervised position, and leaving each row at least one token of its own."""
    limit = min(len(e.input_ids) - 1 for e in encoded)
    for e in encoded:
        if e.slot_starts:
            limit = min(limit, e.slot_starts[0])
        supervised = np.nonzero(np.asarray(e.labels) != IGNORE)[0]
        if len(supervised):
            limit = min(limit, int(supervised[0]) - 1)  # the position predicting the first answer token
    first = np.asarray(encoded[0].input_ids[:max(limit, 0)])
    same = np.ones(len(first), dtype=bool)
    for e in encoded[1:]:
        same &= np.asarray(e.input_ids[:len(first)]) == first
    return int(np.argmin(same)) if not same.all() else len(first)


def _cat(parts: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.concatenate(parts)).long() if parts else torch.zeros(0, dtype=torch.long)
