"""What is in a dataset: counts, durations, labels, and the problems found (with file and sample id)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

import attrs

from llaso_core.data.answers import read_target
from llaso_core.data.audio import AudioPolicy, validate_audio
from llaso_core.data.release import OnError, SkippedRecord
from llaso_core.data.sample import Sample
from llaso_core.loader import get_host

DURATION_BINS = (0, 1, 2, 5, 10, 20, 30, float("inf"))
UNMAPPED = "no registered task owns this file's stem"
#: How many samples whose target names no label of their set a report lists (all are counted).
MAX_LISTED = 50


@attrs.frozen
class Dataset:
    """What :func:`open_dataset` read: the samples, the folder their audio paths are relative to,
    files no task owns (``unmapped``: path and reason), the records left out (``skipped``) and the
    release files read only after repair (``repaired``: the scorer's ``read after repair`` lines)."""

    samples: list[Sample]
    root: Path
    unmapped: list[dict[str, str]]
    skipped: list[SkippedRecord]
    repaired: list[str] = attrs.Factory(list)


def open_dataset(path: Path, host=None, on_error: OnError = "skip") -> Dataset:
    """The samples under ``path`` (a unified ``.jsonl``, a folder with ``train.jsonl``/``eval.jsonl``,
    a LLaSO release folder, one release ``.json`` file, or ``hf:NAME_OR_PATH[@SPLIT]?task=ID``: see
    ``load.load_data``). Under ``on_error="skip"`` a malformed record, or a file that cannot be read
    past some point, is listed in ``skipped`` and every other record is kept."""
    from llaso_core.data.load import HF_PREFIX, load_data
    from llaso_core.data.release import iter_file, load_release, map_file
    from llaso_core.data.store import read_samples

    skipped: list[SkippedRecord] = []
    if str(path).startswith(HF_PREFIX):
        samples = load_data(str(path), host=host, on_error=on_error, skipped=skipped)
        return Dataset(list(samples), samples.root, [], skipped)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix == ".json":
        file = map_file(path, path.parent, host=host)
        if file is None:
            return Dataset([], path.parent, [{"path": str(path), "reason": UNMAPPED}], [])
        repaired: list[str] = []
        samples = list(iter_file(file, on_error=on_error, skipped=skipped, repaired=repaired))
        return Dataset(samples, path.parent, [], skipped, repaired)
    if path.is_file():
        return Dataset(list(read_samples(path, on_error=on_error, skipped=skipped)), path.parent, [], skipped)
    unified = [path / f"{split}.jsonl" for split in ("train", "eval") if (path / f"{split}.jsonl").exists()]
    if unified:
        samples = [s for f in unified for s in read_samples(f, on_error=on_error, skipped=skipped)]
        return Dataset(samples, path, [], skipped)
    result = load_release(path, host=host, on_error=on_error)
    unmapped = [{"path": str(u), "reason": UNMAPPED} for u in result.unknown]
    return Dataset(list(result.samples), path, unmapped, result.skipped, result.repaired)


def inspect_samples(samples: Iterable[Sample], root: Path, *, host=None, check_audio: bool = True,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Counts per task / modality / source / split, a duration histogram, label distributions of
    closed-set tasks, and audio problems (read from headers)."""
    samples = list(samples)
    host = host or get_host()
    by = {key: Counter() for key in ("task", "modality", "source", "split")}
    labels: dict[str, Counter] = {}
    closed = _closed_tasks(host)
    registered, modalities = {t.id for t in host.tasks}, {m.id for m in host.modalities}
    unreadable: list[dict[str, str]] = []
    for s in samples:
        for key, counter in by.items():
            counter[getattr(s, key)] += 1
        if s.task in closed:
            labels.setdefault(s.task, Counter())[s.target.strip().rstrip(".").lower()] += 1
        if s.task in registered:
            reading = read_target(s, host)
            if reading is not None and not reading.valid:
                unreadable.append({"sample_id": s.id, "task": s.task, "label_set": reading.label_set.name,
                                   "target": s.target})
    report = {"samples": len(samples), **{f"by_{k}": dict(sorted(v.items())) for k, v in by.items()},
              "labels": {t: dict(c.most_common()) for t, c in sorted(labels.items())},
              "unregistered_tasks": {t: n for t, n in sorted(by["task"].items()) if t not in registered},
              "unregistered_modalities": {m: n for m, n in sorted(by["modality"].items()) if m not in modalities},
              "unreadable_targets": len(unreadable), "unreadable_listed": unreadable[:MAX_LISTED]}
    items = [(root / a.path, s.id) for s in samples for a in s.audio]
    if check_audio and items:
        durations: list[float] = []
        audio = validate_audio(items, AudioPolicy(max_seconds=None), workers=4, progress=progress,
                               max_listed=50, durations=durations)
        report["audio"] = audio.summary()
        report["durations"] = _histogram(durations)
    return report


def _histogram(durations: Iterable[float]) -> dict[str, int]:
    counts = Counter()
    for d in durations:
        for low, high in zip(DURATION_BINS, DURATION_BINS[1:]):
            if low <= d < high:
                counts[f"{low:g}-{high:g}s" if high != float("inf") else f">={low:g}s"] += 1
                break
    order = [f"{lo:g}-{hi:g}s" if hi != float("inf") else f">={lo:g}s" for lo, hi in zip(DURATION_BINS, DURATION_BINS[1:])]
    return {k: counts[k] for k in order if counts[k]}


def _closed_tasks(host) -> set[str]:
    return {t.id for t in host.tasks if any(ls.kind == "closed" for ls in t.label_sets)}
