"""What is in a dataset: counts, durations, labels, and the problems found (with file and sample id)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable

from llaso_core.data.audio import AudioPolicy, validate_audio
from llaso_core.data.sample import Sample

DURATION_BINS = (0, 1, 2, 5, 10, 20, 30, float("inf"))


def open_dataset(path: Path, host=None) -> tuple[list[Sample], Path, list[dict[str, str]]]:
    """Samples under ``path`` (a unified ``.jsonl``, a folder with ``train.jsonl``/``eval.jsonl``, or a
    LLaSO release folder, or ``hf:NAME_OR_PATH[@SPLIT]?task=ID``: see ``load.load_data``), the folder
    audio paths are relative to, and files that could not be mapped."""
    from llaso_core.data.load import HF_PREFIX, load_data
    from llaso_core.data.release import load_release
    from llaso_core.data.store import read_samples

    if str(path).startswith(HF_PREFIX):
        samples = load_data(str(path), host=host)
        return list(samples), samples.root, []
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        return list(read_samples(path)), path.parent, []
    unified = [path / f"{split}.jsonl" for split in ("train", "eval") if (path / f"{split}.jsonl").exists()]
    if unified:
        return [s for f in unified for s in read_samples(f)], path, []
    result = load_release(path, host=host, on_error="skip")
    unknown = [{"path": str(u), "reason": "no registered task owns this file's stem"} for u in result.unknown]
    unknown += [{"path": str(s.path), "reason": f"sample {s.index}: {s.reason}"} for s in result.skipped]
    return list(result.samples), path, unknown


def inspect_samples(samples: Iterable[Sample], root: Path, *, host=None, check_audio: bool = True,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Counts per task / modality / source / split, a duration histogram, label distributions of
    closed-set tasks, and audio problems (read from headers)."""
    samples = list(samples)
    by = {key: Counter() for key in ("task", "modality", "source", "split")}
    labels: dict[str, Counter] = {}
    closed = _closed_tasks(host)
    for s in samples:
        for key, counter in by.items():
            counter[getattr(s, key)] += 1
        if s.task in closed:
            labels.setdefault(s.task, Counter())[s.target.strip().rstrip(".").lower()] += 1
    report = {"samples": len(samples), **{f"by_{k}": dict(sorted(v.items())) for k, v in by.items()},
              "labels": {t: dict(c.most_common()) for t, c in sorted(labels.items())}}
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
    if host is None:
        from llaso_core.loader import get_host

        host = get_host()
    return {t.id for t in host.tasks if any(ls.kind == "closed" for ls in t.label_sets)}
