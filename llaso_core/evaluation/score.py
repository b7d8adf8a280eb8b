"""``llaso score``: map prediction files to tasks through the task plugins, extract, judge, score."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

import attrs

from llaso_core.evaluation.judging import JudgeOptions, collect_judgments
from llaso_core.evaluation.predictions import (
    Format,
    PredictionFileError,
    PredictionSet,
    expand_inputs,
    read_prediction_sets,
)
from llaso_core.loader import PluginHost
from llaso_core.metrics.base import MetricResult, Protocol
from llaso_core.query import QueryError, parse_release_turn
from llaso_core.specs import Source, TaskSpec


@attrs.frozen
class SetScore:
    """The scores of one prediction set (one release file)."""

    pset: PredictionSet
    task: TaskSpec
    source: Source
    modalities: tuple[str | None, ...]  # per row
    metrics: dict[str, MetricResult]
    extracted: tuple[object, ...]
    judge_sources: dict[str, int]

    @property
    def modality(self) -> str:
        kinds = set(self.modalities) - {None}
        return kinds.pop() if len(kinds) == 1 else "mixed"


@attrs.define
class ScoreRun:
    protocol: Protocol
    judge: JudgeOptions
    sets: list[SetScore] = attrs.Factory(list)
    unknown_files: list[dict[str, str]] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)


Progress = Callable[[str, int, int], None]  # (what, done, total)


def score(inputs: Iterable[Path], host: PluginHost, *, protocol: Protocol = Protocol.STRICT,
          judge: JudgeOptions = JudgeOptions(), format: Format = "auto",
          progress: Progress | None = None) -> ScoreRun:
    """Score every prediction file under ``inputs``. Unknown or unreadable files are reported in
    the run (never silently skipped); the others are scored."""
    run = ScoreRun(protocol=protocol, judge=judge)
    files = expand_inputs(inputs)
    for done, path in enumerate(files):
        if progress:
            progress(path.name, done, len(files))
        try:
            psets = read_prediction_sets(path, format)
        except (PredictionFileError, OSError, UnicodeDecodeError) as exc:
            run.unknown_files.append({"path": str(path), "reason": str(exc)})
            continue
        for pset in psets:
            owner = host.source_of(pset.stem)
            if owner is None:
                run.unknown_files.append({"path": str(path), "reason": f"no registered task owns source "
                                          f"{pset.stem!r} (see `llaso tasks list`)"})
                continue
            run.sets.append(score_set(pset, *owner, host, protocol, judge, run.problems))
    if progress:
        progress("", len(files), len(files))
    return run


def score_set(pset: PredictionSet, task: TaskSpec, source: Source, host: PluginHost, protocol: Protocol,
              judge: JudgeOptions, problems: list[str]) -> SetScore:
    label_set = task.label_set(source.label_set)
    predictions = [row.prediction for row in pset.rows]
    references = [row.reference for row in pset.rows]
    missing = sum(p is None for p in predictions)
    if missing:
        problems.append(f"{pset.name}: {missing} sample(s) have no prediction (counted as invalid)")
    modalities = _modalities(pset, source, host, problems)
    extractor = task.extractor_for(source)
    extract = host.extractors.get(extractor).load()
    extracted = tuple(None if p is None else extract(p, label_set) for p in predictions)
    options: dict[str, object] = {"labels": list(label_set.labels) if label_set.kind == "closed" else None}
    metrics: dict[str, MetricResult] = {}
    judge_sources: Counter[str] = Counter()
    for name in task.metrics_for(source):
        fn = host.metrics.get(name).load()
        if name == "judge":
            verdicts = collect_judgments(pset, judge, protocol.value)
            judge_sources.update(v.source if v.ok else f"{v.source}:{v.status}" for v in verdicts if v is not None)
            texts = [v.raw if v is not None and v.status in ("ok", "parse_error") else None for v in verdicts]
            metrics[name] = fn(texts, references, protocol=protocol, **options)
            unscored = sum(v is None or v.status in ("missing", "api_error") for v in verdicts)
            if unscored:
                problems.append(f"{pset.name}: {unscored} sample(s) have no judge verdict (unscored)"
                                + (" — run with a judge, or --retry-failed" if judge.backend != "none" else
                                   " — --judge none"))
        else:
            extra = {"parser": extractor} if label_set.kind == "numeric" else {}
            metrics[name] = fn(predictions, references, protocol=protocol, **options, **extra)
    return SetScore(pset, task, source, modalities, metrics, extracted, dict(judge_sources))


def _modalities(pset: PredictionSet, source: Source, host: PluginHost, problems: list[str]) -> tuple[str | None, ...]:
    candidates = [host.modalities.get(m) for m in source.modalities if m in host.modalities]
    out: list[str | None] = []
    for row in pset.rows:
        if row.modality is not None:
            out.append(row.modality)
            continue
        try:
            out.append(parse_release_turn(row.human_turn, row.voice, candidates).modality)
        except QueryError as exc:
            problems.append(f"{pset.name}: sample {row.index}: {exc}")
            out.append(None)
    return tuple(out)
