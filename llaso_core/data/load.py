"""One way to open a dataset for training, evaluation and the feature cache: ``load_data``.

``--data`` is one of:

- a folder with ``train.jsonl`` / ``eval.jsonl`` (the unified format; read into memory);
- a LLaSO release folder (``*.json`` files named after their sources): read through the
  memory-mapped index (``index.open_index``), never as a list of every sample, so a 12M-sample
  LLaSO-Align costs the rows a step touches, not the whole file, in each process;
- ``hf:NAME_OR_PATH[@SPLIT][?key=value&...]``: a Hugging Face dataset with an ``Audio`` column
  (``hf.iter_hf``; a ``save_to_disk`` folder or a ``load_dataset`` name). Keys: ``task``
  (required), ``modality`` (default ``ta``), ``source`` (default: the task id), and column
  mappings ``audio`` (default ``audio``), ``target`` (default ``text``), ``instruction``,
  ``input``, ``id``. Clips are written once as 16 kHz WAV files under the llaso cache;
- nothing: the offline mini-corpus (synthesised once, cached).

The result is a ``SampleView``: a sequence of samples (positions into the source, filtered by
split, task and modality) with its ``root`` and the samples' lengths for grouping.
Under a multi-process launch rank 0 builds what is shared on disk (index, lengths, WAV files)
first; the other ranks open it after a barrier.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar, overload
from urllib.parse import parse_qsl

import numpy as np

from llaso_core import distributed

from . import MINICORPUS_PER_TASK
from .lengths import HEADER_WORKERS, SampleLengths, measure, sample_items
from .release import OnError, SkippedRecord, split_of
from .sample import Sample

T = TypeVar("T")
HF_PREFIX = "hf:"
HF_KEYS = ("task", "modality", "source", "audio", "target", "instruction", "input", "id")


class DataError(ValueError):
    """The data cannot be used as asked (nothing left after filtering, unknown task, bad --data)."""


def cache_root() -> Path:
    """``$LLASO_CACHE_DIR``, else ``~/.cache/llaso``."""
    base = os.environ.get("LLASO_CACHE_DIR")
    return Path(base) if base else Path.home() / ".cache" / "llaso"


class SampleList(Sequence[Sample]):
    """Samples held in memory (unified files, Hugging Face data), with what ``SampleView`` asks of a source."""

    def __init__(self, samples: Iterable[Sample], root: Path) -> None:
        self.samples = list(samples)
        self.root = Path(root)
        self._lengths: SampleLengths | None = None

    def __len__(self) -> int:
        return len(self.samples)

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        return self.samples[i]

    def positions(self, **allowed: Iterable[str] | None) -> np.ndarray:
        return np.flatnonzero(self.mask(**allowed))

    def mask(self, **allowed: Iterable[str] | None) -> np.ndarray:
        sets = {k: set(v) for k, v in allowed.items() if v is not None}
        return np.fromiter((all(getattr(s, k) in v for k, v in sets.items()) for s in self.samples), dtype=bool,
                           count=len(self.samples))

    def lengths(self, *, workers: int = HEADER_WORKERS) -> SampleLengths:
        if self._lengths is None:
            self._lengths = measure(sample_items(self.samples), self.root, workers=workers)
        return self._lengths


class SampleView(Sequence[Sample]):
    """The samples at ``positions`` of ``source`` (a ``SampleIndex`` or ``SampleList``); picklable
    into data-loader workers (an index pickles as its file paths)."""

    def __init__(self, source: Any, positions: np.ndarray) -> None:
        self.source = source
        self.positions = np.asarray(positions, dtype=np.int64)

    @property
    def root(self) -> Path:
        return self.source.root

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        if isinstance(i, slice):
            return [self.source[int(p)] for p in self.positions[i]]
        return self.source[int(self.positions[i])]

    def __iter__(self) -> Iterator[Sample]:
        for p in self.positions:
            yield self.source[int(p)]

    def select(self, **allowed: Iterable[str] | None) -> "SampleView":
        """The samples of this view whose ``task``/``modality``/``split`` are allowed (None: any)."""
        return SampleView(self.source, np.intersect1d(self.positions, self.source.positions(**allowed)))

    def weighted(self, weights: Mapping[str, float], seed: int = 0) -> "SampleView":
        """Each task's samples ``weights[task]`` times (tasks not named: once): whole repeats, then a
        seeded share of the task's samples for the fraction; a weight of 0 leaves the task out."""
        if not weights:
            return self
        rng = np.random.default_rng(seed)
        named = self.source.positions(task=set(weights))
        parts = [np.setdiff1d(self.positions, named)]
        for task, weight in sorted(weights.items()):
            if weight < 0:
                raise ValueError(f"task weight {task}={weight}: weights are >= 0")
            own = np.intersect1d(self.positions, self.source.positions(task={task}))
            whole, share = divmod(weight, 1.0)
            parts += [own] * int(whole) + [np.sort(rng.choice(own, round(share * len(own)), replace=False))]
        return SampleView(self.source, np.concatenate(parts).astype(np.int64))

    def spread(self, count: int, runs: int = 20) -> "SampleView":
        """About ``count`` samples from all over the view (all of them when there are fewer): ``runs``
        runs of neighbours at even intervals, so that a memory-mapped index is read in a few places
        rather than a page here and there across the whole file."""
        if len(self) <= count:
            return self
        size = max(1, count // runs)
        starts = np.linspace(0, len(self) - size, runs).astype(np.int64)
        return SampleView(self.source, self.positions[(starts[:, None] + np.arange(size)).ravel()])

    def lengths(self) -> SampleLengths:
        """Audio seconds and text characters of each sample (measured once per source, see ``lengths``)."""
        return rank_zero_first(self.source.lengths).take(self.positions)


def rank_zero_first(work: Callable[[], T]) -> T:
    """``work()`` on rank 0, then on the other ranks (which find on disk what rank 0 wrote)."""
    if distributed.world_size() == 1:
        return work()
    if distributed.rank() != 0:
        distributed.barrier()
    result = work()
    if distributed.rank() == 0:
        distributed.barrier()
    return result


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


def load_data(data: str | os.PathLike[str] | None, *, split: str = "train", tasks: Iterable[str] = ("all",),
              modalities: Iterable[str] | None = None, host: Any = None,
              announce: Callable[[str], None] = _to_stderr,
              seed: int = 0, minicorpus_per_task: int = MINICORPUS_PER_TASK,
              index_dir: str | os.PathLike[str] | None = None,
              on_error: OnError = "skip", skipped: list[SkippedRecord] | None = None,
              repaired: list[str] | None = None) -> SampleView:
    """The samples of ``split`` in ``data`` (see the module docstring) of ``tasks`` (ids or "all")
    and ``modalities`` (None: all). Unknown tasks and modalities are errors with a suggestion.
    ``announce`` (default: standard error) is told what is being built (index, mini-corpus, WAVs)
    and which malformed records of ``split`` were left out (``on_error="skip"``: also appended to
    ``skipped``); under ``on_error="raise"`` the first one stops with an error naming file and record.
    Release files that could only be read after repair (control characters, records spanning lines)
    are announced and appended to ``repaired``."""
    if host is None:
        from llaso_core.loader import get_host
        host = get_host()
    wanted_tasks = None if "all" in tuple(tasks) else {host.tasks.get(t).id for t in tasks}
    wanted_modalities = None if modalities is None else set(modalities)
    for modality in wanted_modalities or ():
        host.modalities.get(modality)  # an unknown modality: a clear error with a did-you-mean
    source, bad = rank_zero_first(lambda: _open_source(data, split, host, announce, seed, minicorpus_per_task,
                                                       index_dir, on_error))
    split_name = "eval" if split in ("eval", "test") else split
    _announce_skipped(bad, announce)
    if skipped is not None:
        skipped.extend(bad)
    notes = getattr(source, "repaired", [])
    for note in notes:
        announce(f"repaired: {note}")
    if repaired is not None:
        repaired.extend(notes)
    splits = None if str(data).startswith(HF_PREFIX) else {split_name}
    tasks_known, modalities_known = {t.id for t in host.tasks}, {m.id for m in host.modalities}
    positions = source.positions(split=splits, task=wanted_tasks or tasks_known,
                                 modality=wanted_modalities or modalities_known)
    # a sample of a task or modality no plugin registers is never used: named, not silently dropped
    unknown = source.mask(split=splits) & ~source.mask(task=tasks_known, modality=modalities_known)
    if unknown.any():
        _announce_unregistered(source, np.flatnonzero(unknown), tasks_known, announce)
    return SampleView(source, positions)


def _announce_unregistered(source: Any, left_out: np.ndarray, tasks_known: set[str],
                           announce: Callable[[str], None]) -> None:
    seen = [source[int(i)] for i in left_out[:1000]]
    names = sorted({f"task {s.task}" if s.task not in tasks_known else f"modality {s.modality}" for s in seen})
    announce(f"{len(left_out)} sample(s) left out: no plugin registers their {', '.join(names)} (first: sample "
             f"{seen[0].id}); `llaso plugins` shows what is registered")


def _announce_skipped(bad: list[SkippedRecord], announce: Callable[[str], None]) -> None:
    if not bad:
        return
    announce(f"{len(bad)} malformed record(s) left out (--bad-records fail stops instead):")
    for record in bad[:5]:
        announce(f"  {record.message}")
    if len(bad) > 5:
        announce(f"  ... and {len(bad) - 5} more")


def _open_source(data: str | os.PathLike[str] | None, split: str, host: Any, announce: Callable[[str], None],
                 seed: int, per_task: int, index_dir: str | os.PathLike[str] | None,
                 on_error: OnError) -> tuple[Any, list[SkippedRecord]]:
    """The source of ``data`` and the malformed records of ``split`` it left out."""
    from llaso_core.data.store import read_samples

    if data is not None and str(data).startswith(HF_PREFIX):
        return _open_hf(str(data), split, host, announce), []
    if data is None:
        from llaso_core.data.synth.corpus import synthesize_corpus

        root = cache_root() / "minicorpus" / f"seed{seed}-n{per_task}"
        announce(f"no --data given: using the offline mini-corpus in {root}")
        synthesize_corpus(root, per_task=per_task, seed=seed)
    else:
        root = Path(data)
        if not root.is_dir():
            raise DataError(f"--data {data} is not a folder (nor hf:NAME_OR_PATH)")
    unified = root / f"{'eval' if split == 'test' else split}.jsonl"
    if unified.exists():
        bad: list[SkippedRecord] = []
        return SampleList(read_samples(unified, on_error=on_error, skipped=bad), root), bad
    if next(root.rglob("*.json"), None) is None:
        held = [p.name for p in sorted(root.glob("*.jsonl"))]
        raise DataError(f"--data {data}: no {unified.name} and no LLaSO JSON files (*.json) in this folder"
                        + (f" (it holds {', '.join(held)})" if held else ""))
    from llaso_core.data.index import open_index

    index = open_index(root, host=host, cache_dir=index_dir, on_error=on_error, progress=None)
    if index.built:
        announce(f"indexed {len(index)} samples of {root} in {sum(m['seconds'] for m in index.meta()):.1f} s")
    wanted = "eval" if split in ("eval", "test") else split
    return index, [b for b in index.skipped if split_of(b.path, "train") == wanted]


def parse_hf(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """``hf:NAME_OR_PATH[@SPLIT][?key=value&...]`` -> (name or path, split, options)."""
    body = spec[len(HF_PREFIX):]
    body, _, query = body.partition("?")
    name, _, split = body.partition("@")
    if not name:
        raise DataError(f"--data {spec}: no dataset name or path after {HF_PREFIX!r}")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(HF_KEYS))
    if unknown:
        raise DataError(f"--data {spec}: unknown option(s) {', '.join(unknown)} (known: {', '.join(HF_KEYS)})")
    if "task" not in options:
        raise DataError(f"--data {spec}: say which task the rows are, e.g. {spec.split('?')[0]}?task=ASR")
    return name, split or None, options


def _open_hf(spec: str, split: str, host: Any, announce: Callable[[str], None]) -> SampleList:
    from llaso_core.data.hf import HFDataError, iter_hf
    from llaso_core.registry import UnknownNameError

    name, hf_split, options = parse_hf(spec)
    hf_split = hf_split or ("test" if split in ("eval", "test") else split)
    try:
        task = host.tasks.get(options["task"]).id
    except UnknownNameError as exc:
        raise DataError(f"--data {spec}: {exc}") from None
    columns = {role: options[role] or None for role in ("audio", "target", "instruction", "input", "id")
               if role in options}
    key = hashlib.sha256(f"{Path(name).resolve() if Path(name).exists() else name}|{hf_split}|{sorted(options.items())}"
                         .encode()).hexdigest()[:16]
    audio_dir = cache_root() / "hf" / key
    announce(f"reading {name} [{hf_split}] (clips as WAV files in {audio_dir})")
    try:
        samples = iter_hf(name, hf_split, task=task, source=options.get("source", task),
                          modality=options.get("modality", "ta"), columns=columns, audio_dir=audio_dir, host=host)
        return SampleList(samples, audio_dir)
    except (HFDataError, FileNotFoundError) as exc:
        raise DataError(str(exc)) from None
