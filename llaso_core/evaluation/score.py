"""``llaso score``: map prediction files to tasks through the task plugins, extract, judge, score."""

from __future__ import annotations

import inspect
import time
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
from llaso_core.evaluation.records import LEFT_OUT
from llaso_core.judge.types import Judgment
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
    """One scoring run: what was scored, files not scored, and problems (repairs, and what was
    left out: records, judge rows, judge verdicts, each ending in ``LEFT_OUT``)."""

    protocol: Protocol
    judge: JudgeOptions
    sets: list[SetScore] = attrs.Factory(list)
    unknown_files: list[dict[str, str]] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)

    @property
    def left_out(self) -> int:
        """Problems that left a record, judge row or verdict out of the scores."""
        return sum(p.endswith(LEFT_OUT) for p in self.problems)

    @property
    def complete(self) -> bool:
        """Whether every file, record and judge verdict asked for was scored."""
        return not self.unknown_files and not self.left_out


Progress = Callable[[str, int, int], None]  # (what, done, total)


def score(inputs: Iterable[Path], host: PluginHost, *, protocol: Protocol = Protocol.STRICT,
          judge: JudgeOptions = JudgeOptions(), format: Format = "auto",
          progress: Progress | None = None) -> ScoreRun:
    """Score every prediction file under ``inputs``. No single file, record or judge row stops the
    run: what cannot be read or scored is named in ``unknown_files``/``problems`` and counted in
    ``left_out``; the rest is scored."""
    run = ScoreRun(protocol=protocol, judge=judge)
    files = expand_inputs(inputs)
    deadline_at = time.monotonic() + judge.deadline if judge.deadline is not None else None
    for done, path in enumerate(files):
        if progress:
            progress(path.name, done, len(files))
        try:
            psets = read_prediction_sets(path, format)
        except PredictionFileError as exc:
            run.unknown_files.append({"path": str(path), "reason": str(exc)})
            continue
        for pset in psets:
            run.problems.extend(pset.problems)
            owner = host.source_of(pset.stem)
            if owner is None:
                run.unknown_files.append({"path": str(path), "reason": f"no registered task owns source "
                                          f"{pset.stem!r} (see `llaso tasks list`)"})
                continue
            for part in by_modality(pset, owner[1], host):
                try:
                    run.sets.append(score_set(part, *owner, host, protocol, judge, run.problems,
                                              deadline_at=deadline_at))
                except Exception as exc:  # noqa: BLE001 - a plugin's extractor or metric must not end the run
                    run.unknown_files.append({"path": str(path), "reason": f"{part.name}: scoring failed "
                                              f"({type(exc).__name__}: {exc})"})
    if progress:
        progress("", len(files), len(files))
    return run


def by_modality(pset: PredictionSet, source: Source, host: PluginHost) -> list[PredictionSet]:
    """``pset`` as one set per query modality of its rows (``<name>:<modality>`` when a file mixes
    them, e.g. text-instruction and pure-audio rows of one source), so each is scored apart."""
    rows = tuple(attrs.evolve(row, modality=kind)  # parsed once: score_set reads it from the rows
                 for row, kind in zip(pset.rows, _modalities(pset, source, host, [])))
    groups: dict[str | None, list] = {}
    for row in rows:
        groups.setdefault(row.modality, []).append(row)
    known = [k for k in groups if k is not None]
    if len(known) < 2:
        return [attrs.evolve(pset, rows=rows)]
    groups[known[0]] += groups.pop(None, [])  # rows of no readable modality: named by score_set, scored once
    return [attrs.evolve(pset, name=f"{pset.name}:{kind}", rows=tuple(groups[kind]),
                         problems=pset.problems if n == 0 else ()) for n, kind in enumerate(known)]


def score_set(pset: PredictionSet, task: TaskSpec, source: Source, host: PluginHost, protocol: Protocol,
              judge: JudgeOptions, problems: list[str], *, deadline_at: float | None = None) -> SetScore:
    """Extract every answer with the task's extractor and compute the task's metrics. Metrics
    that take ``answers`` score the extracted answers (under ``strict``; see docs/metrics.md)."""
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
            metrics[name] = _judge_metric(fn, pset, references, judge, protocol, problems, judge_sources,
                                          deadline_at, options)
            continue
        extra: dict[str, object] = {"parser": extractor} if label_set.kind == "numeric" else {}
        if _takes_answers(fn):
            extra["answers"] = extracted
        metrics[name] = fn(predictions, references, protocol=protocol, **options, **extra)
    # the registered declaration states each direction, whatever the function put in its result
    metrics = {name: attrs.evolve(r, higher_is_better=host.metrics.get(name).higher_is_better)
               for name, r in metrics.items()}
    return SetScore(pset, task, source, modalities, metrics, extracted, dict(judge_sources))


def _takes_answers(fn: Callable[..., MetricResult]) -> bool:
    """Whether a metric function accepts the extracted ``answers`` (every built-in one does)."""
    try:
        return "answers" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _judge_metric(fn: Callable[..., MetricResult], pset: PredictionSet, references: list[str],
                  judge: JudgeOptions, protocol: Protocol, problems: list[str], judge_sources: Counter[str],
                  deadline_at: float | None, options: dict[str, object]) -> MetricResult:
    """The judge metric of one set: verdicts (recorded, cached or asked), failures named."""
    verdicts = collect_judgments(pset, judge, protocol.value, problems, deadline_at=deadline_at)
    judge_sources.update(v.source if v.ok else f"{v.source}:{v.status}" for v in verdicts if v is not None)
    texts = [v.raw if v is not None and v.status in ("ok", "parse_error") else None for v in verdicts]
    failures = [_failure_note(v) for v in verdicts]
    result = fn(texts, references, protocol=protocol, failures=failures, **options)
    statuses = Counter(v.status for v in verdicts if v is not None)
    if statuses["missing"]:
        problems.append(f"{pset.name}: {statuses['missing']} sample(s) have no judge verdict (unscored)"
                            + (" — --judge none" if judge.backend == "none" else ""))
    unparsed = sum(s.note == "no score" for s in result.samples)
    for count, what in ((statuses["api_error"], "judge API failure(s)"),
                        (unparsed, "judge verdict(s) without a parsable score")):
        if count:
            problems.append(f"{pset.name}: {count} {what} (unscored; --retry-failed asks again){LEFT_OUT}")
    return result


def _failure_note(verdict: Judgment | None) -> str | None:
    """Why a sample has no judge text: the judge API failed, or no verdict was recorded or cached."""
    if verdict is None or verdict.status in ("ok", "parse_error"):
        return None
    if verdict.status == "api_error":
        return f"judge API failure: {verdict.error}"
    return f"no judge verdict ({verdict.error})" if verdict.error else "no judge verdict"


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
