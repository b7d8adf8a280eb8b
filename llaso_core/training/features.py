"""Frozen-encoder feature cache: run the encoder once, train both stages and every epoch on its frames.

Layout of a cache (``root/<fingerprint>/``)::

    manifest.json          encoder id, architecture, output dim, dtype, cache version
    shard-00000.f16        float16 frames of many clips, back to back ([frames, dim] each)
    shard-00000.json       its index: one entry per clip (key, size, mtime, offset, frames)

The fingerprint is a hash of the encoder id, its class and architecture and all its weights, so a
different checkpoint, size or ``length_mode`` gets another folder. An entry is keyed by the
audio file's absolute path and the audio policy, and holds the file's size and mtime: a file
changed since is a miss. Only the valid frames of a clip are stored (the encoder's output for
the clip's own length: under Whisper's ``pad30`` mode the 30-s-padded encoding, trimmed), so
storage is ~2 bytes x dim per frame (Whisper-large-v3: 128 KB per second of audio).

A shard's index is written (atomically) after its data, so an interrupted build leaves whole
shards only; the next build continues with the clips still missing.

Training with a cache: ``CachedTrainingSet`` (no audio decoding: frame counts and frames come
from the cache) and ``CachedCollator`` (``Batch.audio_frames`` ``[clips, max_frames, dim]``
instead of features). The encoder must stay frozen (no SpecAugment on cached frames).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import attrs
import numpy as np
import torch

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.model.batching import Batch, Encoded, collate, encode
from llaso_core.training.data import text_positions

if TYPE_CHECKING:  # llaso_core.data.audio needs soundfile: imported where audio is read
    from llaso_core.data.audio import AudioPolicy, AudioReport
    from llaso_core.data.sample import Sample

CACHE_VERSION = 1
MANIFEST = "manifest.json"
FLOAT16_MAX = float(np.finfo(np.float16).max)

Progress = Callable[[int, int], None]  # (clips done, clips to do)


class CacheMiss(KeyError):
    """A clip the cache does not hold (or holds for an older version of the file)."""

    def __str__(self) -> str:
        return str(self.args[0])


def encoder_fingerprint(encoder: torch.nn.Module, encoder_id: str | None = None) -> str:
    """A hash of the encoder id, class, architecture and weights (hex, 32 characters)."""
    h = hashlib.blake2b(digest_size=16)
    try:
        architecture = encoder.architecture()  # type: ignore[operator]
    except (AttributeError, NotImplementedError):
        architecture = None
    meta = {"version": CACHE_VERSION, "id": encoder_id.lower() if encoder_id else None,
            "class": type(encoder).__qualname__, "architecture": architecture}
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for name, tensor in sorted(encoder.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def policy_digest(policy: AudioPolicy) -> str:
    return hashlib.blake2b(json.dumps(attrs.asdict(policy), sort_keys=True, default=str).encode(),
                           digest_size=6).hexdigest()


@attrs.frozen
class Entry:
    shard: int
    offset: int  # in frames
    frames: int
    size: int
    mtime_ns: int


@attrs.frozen
class BuildReport:
    clips: int  # clips encoded now
    already: int  # clips found in the cache
    problems: int  # clips whose audio could not be loaded (not cached)
    frames: int
    bytes: int
    seconds: float
    audio: AudioReport


def _stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


class FeatureCache:
    """The cache of one encoder under ``root``; picklable (memory maps reopen in each process)."""

    def __init__(self, root: str | Path, fingerprint: str, *, policy: AudioPolicy | None = None) -> None:
        from llaso_core.data.audio import AudioPolicy

        policy = policy or AudioPolicy()
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.folder = self.root / fingerprint
        self.policy = policy
        self.policy_key = policy_digest(policy)
        self.manifest: dict | None = None
        self.entries: dict[str, Entry] = {}
        self._maps: dict[int, np.memmap] = {}
        self.reload()

    @classmethod
    def for_encoder(cls, root: str | Path, encoder: torch.nn.Module, encoder_id: str | None = None, *,
                    policy: AudioPolicy | None = None) -> "FeatureCache":
        return cls(root, encoder_fingerprint(encoder, encoder_id), policy=policy)

    # -- reading -------------------------------------------------------------------------------
    def reload(self) -> None:
        self.entries.clear()
        self._maps.clear()
        manifest = self.folder / MANIFEST
        self.manifest = json.loads(manifest.read_text()) if manifest.exists() else None
        for index in sorted(self.folder.glob("shard-*.json")):
            shard = int(index.stem.split("-")[1])
            for key, size, mtime_ns, offset, frames in json.loads(index.read_text())["entries"]:
                self.entries[key] = Entry(shard, offset, frames, size, mtime_ns)

    @property
    def dim(self) -> int:
        if self.manifest is None:
            raise CacheMiss(f"the feature cache {self.folder} is empty (run `llaso features cache`)")
        return int(self.manifest["dim"])

    def key(self, path: str | Path) -> str:
        return f"{Path(path).resolve()}#{self.policy_key}"

    def lookup(self, path: str | Path) -> Entry | None:
        """The entry of the audio file ``path`` if cached for its current size and mtime."""
        entry = self.entries.get(self.key(path))
        if entry is None:
            return None
        try:
            if _stat(Path(path)) != (entry.size, entry.mtime_ns):
                return None
        except OSError:
            return None
        return entry

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, Path)) and self.lookup(path) is not None

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, path: str | Path) -> Entry:
        entry = self.lookup(path)
        if entry is None:
            state = "changed since it was cached" if self.key(path) in self.entries else "not cached"
            raise CacheMiss(f"{path}: {state} in the feature cache {self.folder} "
                            "(run `llaso features cache` over this data with the run's encoder)")
        return entry

    def num_frames(self, path: str | Path) -> int:
        return self.entry(path).frames

    def _map(self, shard: int) -> np.memmap:
        if shard not in self._maps:
            self._maps[shard] = np.memmap(self.folder / f"shard-{shard:05d}.f16", dtype=np.float16, mode="r")
        return self._maps[shard]

    def frames(self, paths: Sequence[str | Path]) -> list[np.ndarray]:
        """The cached frames ``[n_frames, dim]`` (float16, read-only views) of each file."""
        dim = self.dim
        out = []
        for path in paths:
            e = self.entry(path)
            out.append(self._map(e.shard)[e.offset * dim:(e.offset + e.frames) * dim].reshape(e.frames, dim))
        return out

    def padded(self, paths: Sequence[str | Path], dtype: torch.dtype = torch.float32
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames of ``paths`` right-padded with zeros to ``[clips, max_frames, dim]``, and the lengths."""
        return pad_frames(self.frames(paths), self.dim, dtype)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_maps"] = {}
        return state

    # -- writing -------------------------------------------------------------------------------
    def build(self, encoder, paths: Iterable[str | Path], *, encoder_id: str | None = None, batch_size: int = 16,
              device: torch.device | str | None = None, dtype: torch.dtype | None = None,
              shard_clips: int = 8192, progress: Progress | None = None) -> BuildReport:
        """Encode every file of ``paths`` not cached yet: sorted by length, ``batch_size`` clips per
        encoder call, under ``torch.inference_mode`` (``dtype``: an autocast dtype, e.g. bf16 on GPU).
        Files whose audio cannot be loaded are counted in the report and left out."""
        from llaso_core.data.audio import AudioReport, load_audio

        started = time.perf_counter()
        if encoder_fingerprint(encoder, encoder_id) != self.fingerprint:
            raise ValueError(f"this encoder's fingerprint is not {self.fingerprint} (the cache it was opened for)")
        unique = list(dict.fromkeys(str(Path(p).resolve()) for p in paths))
        todo = [p for p in unique if self.lookup(p) is None]
        already = len(unique) - len(todo)
        report = AudioReport()
        if not todo:
            return BuildReport(0, already, 0, 0, 0, time.perf_counter() - started, report)
        device = torch.device(device) if device is not None else next(encoder.parameters()).device
        was_training = encoder.training
        encoder.eval()
        self.folder.mkdir(parents=True, exist_ok=True)
        dim = int(encoder.output_dim)
        self._write_manifest(encoder, encoder_id, dim)
        todo.sort(key=_audio_length, reverse=True)
        writer = _ShardWriter(self.folder, dim, self._next_shard(), shard_clips)
        done = problems = frames_written = 0
        try:
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                waves, kept = [], []
                for path in chunk:
                    clip = load_audio(path, self.policy, report=report)
                    if isinstance(clip, list):
                        raise ValueError("the feature cache does not support AudioPolicy(on_long='chunk')")
                    if clip is None or len(clip.samples) == 0:
                        problems += 1
                        continue
                    waves.append(clip.samples)
                    kept.append(path)
                if waves:
                    for path, frames in zip(kept, encode_clips(encoder, waves, device=device, dtype=dtype)):
                        size, mtime_ns = _stat(Path(path))
                        writer.add(f"{path}#{self.policy_key}", size, mtime_ns, frames)
                        frames_written += frames.shape[0]
                done += len(chunk)
                if progress:
                    progress(done, len(todo))
        finally:
            writer.close()
            encoder.train(was_training)
            self.reload()
        return BuildReport(len(todo) - problems, already, problems, frames_written, frames_written * dim * 2,
                           time.perf_counter() - started, report)

    def _next_shard(self) -> int:
        used = [int(p.name.split("-")[1].split(".")[0]) for p in self.folder.glob("shard-*")]
        return max(used, default=-1) + 1

    def _write_manifest(self, encoder, encoder_id: str | None, dim: int) -> None:
        try:
            architecture = encoder.architecture()
        except (AttributeError, NotImplementedError):
            architecture = None
        manifest = {"version": CACHE_VERSION, "fingerprint": self.fingerprint, "encoder_id": encoder_id,
                    "encoder_class": type(encoder).__qualname__, "architecture": architecture, "dim": dim,
                    "dtype": "float16", "sample_rate": encoder.featurizer.sample_rate}
        _atomic_write(self.folder / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
        self.manifest = manifest


def encode_clips(encoder, waves: Sequence[np.ndarray], *, device: torch.device | str = "cpu",
                 dtype: torch.dtype | None = None) -> list[np.ndarray]:
    """The valid frames ``[n_frames, dim]`` (float16) of each waveform: one padded encoder call,
    each clip's output cut to ``featurizer.num_frames(len(wave))``."""
    device = torch.device(device)
    features, lengths = encoder.featurizer(list(waves))
    with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        out, out_lengths = encoder(features.to(device), lengths.to(device))
    out = out.float().cpu()
    result = []
    for i, wave in enumerate(waves):
        n = encoder.featurizer.num_frames(len(wave))
        if int(out_lengths[i]) != n:
            raise RuntimeError(f"the encoder gave {int(out_lengths[i])} frames for a clip its featurizer says has {n}")
        frames = out[i, :n]
        if not torch.isfinite(frames).all() or frames.abs().max() > FLOAT16_MAX:
            raise ValueError("encoder frames are not finite or exceed the float16 range; they cannot be cached")
        result.append(frames.numpy().astype(np.float16))
    return result


def pad_frames(frames: Sequence[np.ndarray], dim: int, dtype: torch.dtype = torch.float32
               ) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([f.shape[0] for f in frames], dtype=torch.long)
    out = torch.zeros((len(frames), int(lengths.max()) if len(frames) else 0, dim), dtype=dtype)
    for i, f in enumerate(frames):
        out[i, :f.shape[0]] = torch.from_numpy(np.asarray(f, dtype=np.float32))
    return out, lengths


def _audio_length(path: str) -> int:
    try:
        import soundfile

        return int(soundfile.info(path).frames)
    except Exception:  # noqa: BLE001 - unreadable files are reported when loaded
        return 0


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


class _ShardWriter:
    """Appends frames to ``shard-N.f16``; the shard's index is written when it closes."""

    def __init__(self, folder: Path, dim: int, first: int, max_clips: int) -> None:
        self.folder, self.dim, self.shard, self.max_clips = folder, dim, first, max_clips
        self.handle = None
        self.entries: list[list] = []
        self.offset = 0

    def add(self, key: str, size: int, mtime_ns: int, frames: np.ndarray) -> None:
        if self.handle is None:
            self.handle = open(self.folder / f"shard-{self.shard:05d}.f16", "wb")
        self.handle.write(np.ascontiguousarray(frames, dtype=np.float16).tobytes())
        self.entries.append([key, size, mtime_ns, self.offset, int(frames.shape[0])])
        self.offset += int(frames.shape[0])
        if len(self.entries) >= self.max_clips:
            self._finish()

    def _finish(self) -> None:
        if self.handle is None:
            return
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        _atomic_write(self.folder / f"shard-{self.shard:05d}.json",
                      json.dumps({"dim": self.dim, "entries": self.entries}) + "\n")
        self.handle, self.entries, self.offset = None, [], 0
        self.shard += 1

    def close(self) -> None:
        self._finish()


def sample_audio_paths(samples: Iterable[Sample], root: str | Path) -> list[Path]:
    """The audio files of ``samples`` (resolved under ``root``), each once."""
    root = Path(root)
    return list(dict.fromkeys(root / ref.path for s in samples for ref in s.audio))


# -- training on cached frames -------------------------------------------------------------------
@attrs.frozen
class CachedItem:
    encoded: Encoded
    frames: tuple[np.ndarray, ...]  # float16 [n_frames, dim] per clip


class CachedTrainingSet(torch.utils.data.Dataset):
    """Like ``TrainingSet`` but audio positions and frames come from ``cache``: no audio is decoded.
    A sample whose clip is missing from the cache is an error (``CacheMiss``) naming the file."""

    def __init__(self, samples: Sequence[Sample], root: Path, cache: FeatureCache, *, tokenizer, frame_stack: int,
                 audio_token_id: int, max_length: int, chat: ChatTemplate = LLASO_CHAT) -> None:
        self.samples = list(samples)
        self.root = Path(root)
        self.cache = cache
        self.tokenizer = tokenizer
        self.frame_stack = frame_stack
        self.audio_token_id = audio_token_id
        self.max_length = max_length
        self.chat = chat
        missing = [str(p) for p in sample_audio_paths(self.samples, self.root) if p not in cache]
        if missing:
            raise CacheMiss(f"{len(missing)} audio file(s) are not in the feature cache {cache.folder} (first: "
                            f"{missing[0]}); run `llaso features cache` over this data with the run's encoder")

    def __len__(self) -> int:
        return len(self.samples)

    def positions(self, encoder_frames: int) -> int:
        return -(-encoder_frames // self.frame_stack)

    def approx_length(self, i: int) -> int:
        sample = self.samples[i]
        positions = sum(self.positions(self.cache.num_frames(self.root / ref.path)) for ref in sample.audio)
        return positions + text_positions(sample)

    def collator(self, pad_id: int, *, share_prefix: bool = True, **_: object) -> "CachedCollator":
        """No SpecAugment: the encoder input is not seen again."""
        return CachedCollator(pad_id, share_prefix=share_prefix)

    def __getitem__(self, i: int) -> CachedItem:
        sample = self.samples[i]
        frames = tuple(self.cache.frames([self.root / ref.path for ref in sample.audio]))
        chat = self.chat.render(sample.query, sample.target)
        encoded = encode(sample.id, chat, self.tokenizer, [self.positions(f.shape[0]) for f in frames],
                         audio_token_id=self.audio_token_id, max_length=self.max_length)
        return CachedItem(encoded, frames)


@attrs.frozen
class CachedCollator:
    """Items -> Batch with ``audio_frames`` ``[clips, max_frames, dim]`` (zero-padded) and no features."""

    pad_id: int
    dtype: torch.dtype = torch.float32
    share_prefix: bool = True

    def __call__(self, items: Sequence[CachedItem | None]) -> Batch | None:
        items = [it for it in items if it is not None]
        if not items:
            return None
        clips = [f for it in items for f in it.frames]
        frames = None
        if clips:
            frames, _ = pad_frames(clips, clips[0].shape[1], self.dtype)
        return collate([it.encoded for it in items], pad_id=self.pad_id, cached_frames=frames,
                       share_prefix=self.share_prefix)


def cache_for_model(root: str | Path, model, encoder_id: str | None = None, *,
                    policy: AudioPolicy | None = None) -> FeatureCache:
    """The cache of ``model.encoder`` (an LSLM) under ``root``."""
    return FeatureCache.for_encoder(root, model.encoder, encoder_id or model.config.encoder, policy=policy)


__all__ = ["FeatureCache", "CacheMiss", "BuildReport", "CachedTrainingSet", "CachedCollator", "CachedItem",
           "encoder_fingerprint", "encode_clips", "pad_frames", "sample_audio_paths", "cache_for_model"]
