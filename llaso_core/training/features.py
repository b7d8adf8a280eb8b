"""Frozen-encoder feature cache: run the encoder once, train both stages and every epoch on its frames.

Layout of a cache (``root/<fingerprint>/``)::

    manifest.json          encoder id, architecture, output dim, dtype, cache version
    shard-r0-00000.f16     float16 frames of many clips, back to back ([frames, dim] each)
    shard-r0-00000.json    its index: one entry per clip (key, size, mtime, offset, frames)

The fingerprint is a hash of the encoder id, its class and architecture and all its weights, so a
different checkpoint, size or ``length_mode`` gets another folder. An entry is keyed by the
audio file's absolute path and the audio policy, and holds the file's size and mtime: a file
changed since is a miss. Only the valid frames of a clip are stored (the encoder's output for
the clip's own length: under Whisper's ``pad30`` mode the 30-s-padded encoding, trimmed), so
storage is ~2 bytes x dim per frame (Whisper-large-v3: 128 KB per second of audio).

A shard's index is written (atomically) after its data, so an interrupted build leaves whole
shards only; the next build continues with the clips still missing.

Built once across ranks: under a multi-process launch each rank encodes every ``world``-th clip
of the sorted clip list into its own shards (``shard-r<rank>-<n>``), so no two ranks write the
same file, then all ranks wait for each other and read every shard.

Training with a cache: ``training.data.TrainingSet`` with the ``CachedFrames`` audio source (no
audio decoding; ``Batch.audio_frames`` ``[clips, max_frames, dim]`` instead of features). The
encoder must stay frozen (no SpecAugment on cached frames).
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

from llaso_core import distributed

if TYPE_CHECKING:  # llaso_core.data.audio needs soundfile: imported where audio is read
    from llaso_core.data.audio import AudioPolicy, AudioReport
    from llaso_core.data.sample import Sample

CACHE_VERSION = 2
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
    shard: str  # shard file name without suffix
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
        self._maps: dict[str, np.memmap] = {}
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
            shard = index.stem
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

    def _map(self, shard: str) -> np.memmap:
        if shard not in self._maps:
            self._maps[shard] = np.memmap(self.folder / f"{shard}.f16", dtype=np.float16, mode="r")
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
              shard_clips: int = 8192, progress: Progress | None = None, rank: int | None = None,
              world: int | None = None) -> BuildReport:
        """Encode every file of ``paths`` not cached yet: sorted by length, ``batch_size`` clips per
        encoder call, under ``torch.inference_mode`` (``dtype``: an autocast dtype, e.g. bf16 on GPU).
        Files whose audio cannot be loaded are counted in the report and left out.

        Under a launch of ``world`` ranks (default: the launch environment) every rank calls this
        with the same ``paths``; rank ``rank`` encodes its share (every ``world``-th clip of the
        sorted unique files) into its own shards, longest clips first, then all wait for each other and reload.
        The report counts this rank's share."""
        from llaso_core.data.audio import AudioReport

        started = time.perf_counter()
        rank = distributed.rank() if rank is None else rank
        world = distributed.world_size() if world is None else world
        if encoder_fingerprint(encoder, encoder_id) != self.fingerprint:
            raise ValueError(f"this encoder's fingerprint is not {self.fingerprint} (the cache it was opened for)")
        share = sorted(set(str(Path(p).resolve()) for p in paths))[rank::world]
        todo = [p for p in share if self.lookup(p) is None]  # only this rank writes its share: no race
        todo.sort(key=_audio_length, reverse=True)
        already = len(share) - len(todo)
        report = AudioReport()
        if todo:
            self._encode(encoder, encoder_id, todo, report, batch_size=batch_size, device=device, dtype=dtype,
                         shard_clips=shard_clips, progress=progress, rank=rank)
        if world > 1:
            distributed.barrier()
        self.reload()
        problems = report.problem_total
        frames = sum(self.entries[f"{p}#{self.policy_key}"].frames for p in todo
                     if f"{p}#{self.policy_key}" in self.entries)
        return BuildReport(len(todo) - problems, already, problems, frames, frames * (self.dim if frames else 0) * 2,
                           time.perf_counter() - started, report)

    def _encode(self, encoder, encoder_id: str | None, todo: list[str], report: AudioReport, *, batch_size: int,
                device: torch.device | str | None, dtype: torch.dtype | None, shard_clips: int,
                progress: Progress | None, rank: int) -> None:
        from llaso_core.data.audio import load_audio

        device = torch.device(device) if device is not None else next(encoder.parameters()).device
        was_training = encoder.training
        encoder.eval()
        self.folder.mkdir(parents=True, exist_ok=True)
        dim = int(encoder.output_dim)
        self._write_manifest(encoder, encoder_id, dim)
        writer = _ShardWriter(self.folder, dim, f"shard-r{rank}", self._next_shard(rank), shard_clips)
        done = 0
        try:
            for start in range(0, len(todo), batch_size):
                chunk = todo[start:start + batch_size]
                waves, kept = [], []
                for path in chunk:
                    clip = load_audio(path, self.policy, report=report)
                    if isinstance(clip, list):
                        raise ValueError("the feature cache does not support AudioPolicy(on_long='chunk')")
                    if clip is None:
                        continue
                    waves.append(clip.samples)
                    kept.append(path)
                if waves:
                    for path, frames in zip(kept, encode_clips(encoder, waves, device=device, dtype=dtype)):
                        size, mtime_ns = _stat(Path(path))
                        writer.add(f"{path}#{self.policy_key}", size, mtime_ns, frames)
                done += len(chunk)
                if progress:
                    progress(done, len(todo))
        finally:
            writer.close()
            encoder.train(was_training)

    def _next_shard(self, rank: int) -> int:
        """The next free shard number of ``rank`` (only that rank writes ``shard-r<rank>-*``)."""
        used = [int(p.name.split(".")[0].rsplit("-", 1)[1]) for p in self.folder.glob(f"shard-r{rank}-*")]
        return max(used, default=-1) + 1

    def _write_manifest(self, encoder, encoder_id: str | None, dim: int) -> None:
        try:
            architecture = encoder.architecture()
        except (AttributeError, NotImplementedError):
            architecture = None
        manifest = {"version": CACHE_VERSION, "fingerprint": self.fingerprint, "encoder_id": encoder_id,
                    "encoder_class": type(encoder).__qualname__, "architecture": architecture, "dim": dim,
                    "dtype": "float16", "sample_rate": encoder.featurizer.sample_rate}
        _atomic_write(self.folder / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")  # same on every rank
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
        from llaso_core.data.sndfile import sf

        return int(sf.info(path).frames)
    except Exception:  # noqa: BLE001 - unreadable files are reported when loaded
        return 0


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


class _ShardWriter:
    """Appends frames to ``shard-N.f16``; the shard's index is written when it closes."""

    def __init__(self, folder: Path, dim: int, prefix: str, first: int, max_clips: int) -> None:
        self.folder, self.dim, self.prefix, self.shard, self.max_clips = folder, dim, prefix, first, max_clips
        self.handle = None
        self.entries: list[list] = []
        self.offset = 0

    def add(self, key: str, size: int, mtime_ns: int, frames: np.ndarray) -> None:
        if self.handle is None:
            self.handle = open(self.folder / f"{self.prefix}-{self.shard:05d}.f16", "wb")
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
        _atomic_write(self.folder / f"{self.prefix}-{self.shard:05d}.json",
                      json.dumps({"dim": self.dim, "entries": self.entries}) + "\n")
        self.handle, self.entries, self.offset = None, [], 0
        self.shard += 1

    def close(self) -> None:
        self._finish()


def sample_audio_paths(samples: Iterable[Sample], root: str | Path) -> list[Path]:
    """The audio files of ``samples`` (resolved under ``root``), each once."""
    from llaso_core.data.release import resolve

    return list(dict.fromkeys(resolve(root, ref) for s in samples for ref in s.audio))


def cache_for_model(root: str | Path, model, encoder_id: str | None = None, *,
                    policy: AudioPolicy | None = None) -> FeatureCache:
    """The cache of ``model.encoder`` (an LSLM) under ``root``."""
    return FeatureCache.for_encoder(root, model.encoder, encoder_id or model.config.encoder, policy=policy)


__all__ = ["FeatureCache", "CacheMiss", "BuildReport", "encoder_fingerprint", "encode_clips", "pad_frames", "sample_audio_paths", "cache_for_model"]
