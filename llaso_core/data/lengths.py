"""Per-sample sizes for length grouping: seconds of audio (from clip headers) and characters of text.

Each distinct clip's header is read once (a thread pool; duplicates across samples are not read
again); an unreadable header counts 0 seconds: the clip's problem is found and reported when it is
loaded. ``SampleIndex`` stores the result beside its Arrow file so later runs, stages and ranks
reuse it.
"""

from __future__ import annotations

import json
import os
from array import array
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import attrs
import numpy as np

from .release import resolve

#: Threads reading clip headers (I/O bound).
HEADER_WORKERS = 8


@attrs.frozen(eq=False)
class SampleLengths:
    """``seconds[i]`` of audio and ``text_chars[i]`` of sample ``i``; ``clips`` the distinct files."""

    seconds: np.ndarray  # float32
    text_chars: np.ndarray  # int32
    clips: int

    def take(self, positions: np.ndarray) -> "SampleLengths":
        return SampleLengths(self.seconds[positions], self.text_chars[positions], self.clips)

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, seconds=self.seconds, text_chars=self.text_chars, clips=np.int64(self.clips))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "SampleLengths":
        with np.load(path) as data:
            return cls(data["seconds"], data["text_chars"], int(data["clips"]))


def clip_seconds(path: str) -> float:
    """A clip's duration from its header; 0 when it cannot be read."""
    from .sndfile import sf

    try:
        info = sf.info(path)
        return info.frames / info.samplerate if info.samplerate > 0 else 0.0
    except Exception:  # noqa: BLE001 - the clip's problem is reported when it is loaded
        return 0.0


def measure(items: Iterable[tuple[Sequence[str], int]], root: Path, *, workers: int = HEADER_WORKERS
            ) -> SampleLengths:
    """Lengths of samples given as (audio paths relative to ``root``, text characters). Per sample
    only numbers are kept (compact arrays), so memory grows with the distinct clips, not the samples."""
    clip_of: dict[str, int] = {}
    clip_ids, counts, chars = array("q"), array("q"), array("q")
    for paths, n_chars in items:
        for p in paths:
            clip_ids.append(clip_of.setdefault(p, len(clip_of)))
        counts.append(len(paths))
        chars.append(n_chars)
    files = [str(resolve(root, p)) for p in clip_of]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        durations = np.fromiter(pool.map(clip_seconds, files, chunksize=64), dtype=np.float64, count=len(files))
    per_sample = np.repeat(np.arange(len(counts)), np.frombuffer(counts, dtype=np.int64))
    seconds = np.bincount(per_sample, weights=durations[np.frombuffer(clip_ids, dtype=np.int64)],
                          minlength=len(counts))
    return SampleLengths(seconds.astype(np.float32), np.frombuffer(chars, dtype=np.int64).astype(np.int32),
                         len(files))


def sample_items(samples: Iterable) -> Iterator[tuple[list[str], int]]:
    """(audio paths, text characters) of ``Sample`` objects, for ``measure``."""
    for s in samples:
        yield [a.path for a in s.audio], sum(len(getattr(seg, "text", "")) for seg in s.query.segments) + len(s.target)


def segment_items(segments_json: Iterable[str], targets: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    """The same from an index's ``segments`` (JSON) and ``target`` columns, without building samples."""
    for segments, target in zip(segments_json, targets):
        paths, chars = [], len(target)
        for seg in json.loads(segments):
            if seg["type"] == "audio":
                paths.append(seg["path"])
            else:
                chars += len(seg["text"])
        yield paths, chars
