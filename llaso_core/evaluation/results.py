"""Result files: ``results.json`` (schema-versioned), ``results.csv``, ``samples.jsonl``.

Aggregation rule (stated in every results.json): a task's value for a metric is the mean of its
files' values weighted by the samples each value was computed on (``n_used``); a category's value
is the plain mean over its tasks; per-modality values are computed the same way within a modality.

Closed-set tasks also get reference baselines (``baselines``): what a system answering without
listening would score on the same references. ``majority``: always the label most frequent among
the file's references; ``chance``: a label drawn uniformly from the file's label set (the share of
references inside the set divided by its size). Both are pooled like the accuracy they sit beside.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

from llaso_core import __version__
from llaso_core.evaluation.score import ScoreRun, SetScore
from llaso_core.metrics.base import MetricResult
from llaso_core.metrics.extract import normalize_label_text

SCHEMA_VERSION = "llaso.results/1"
AGGREGATION = ("task = n_used-weighted mean of file values; category = mean over tasks; "
               "modality = the same within one modality")
CSV_FIELDS = ("file", "task", "modality", "metric", "value", "n", "n_invalid")
BASELINE_METRIC = "acc"  #: the closed-set metric the baselines stand beside
BASELINE_RULE = ("majority = share of references equal to the file's most frequent label; chance = share of "
                 "references inside the file's label set / its size; task and modality values are the "
                 "sample-weighted means over files, as for acc")


def metric_dict(m: MetricResult) -> dict[str, Any]:
    return {"value": m.value, "n": m.n, "n_used": m.n_used, "n_invalid": m.n_invalid,
            "higher_is_better": m.higher_is_better, "unit": m.unit}


def _pool(results: Iterable[MetricResult]) -> dict[str, Any]:
    results = list(results)
    valued = [m for m in results if m.value is not None]
    weight = sum(m.n_used for m in valued)
    if weight:
        value = sum(m.value * m.n_used for m in valued) / weight  # type: ignore[operator]
    else:  # only values computed on no sample (the paper PSSL script's 0): their plain mean
        value = sum(m.value for m in valued) / len(valued) if valued else None  # type: ignore[misc]
    first = results[0]
    return {"value": value, "n": sum(m.n for m in results), "n_used": sum(m.n_used for m in results),
            "n_invalid": sum(m.n_invalid for m in results), "files": len(results),
            "higher_is_better": first.higher_is_better, "unit": first.unit}


def _by_task(sets: list[SetScore]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, list[MetricResult]]] = defaultdict(lambda: defaultdict(list))
    for s in sets:
        for name, m in s.metrics.items():
            grouped[s.task.id][name].append(m)
    tasks = {s.task.id: s.task for s in sets}
    return {tid: {"name": tasks[tid].name, "category": tasks[tid].category.value,
                  "metrics": {name: _pool(ms) for name, ms in metrics.items()}}
            for tid, metrics in grouped.items()}


def set_baselines(s: SetScore) -> dict[str, Any] | None:
    """Majority-class and uniform-chance accuracy of one closed-set file, from its references and
    its label set; None for a file without a closed label set or without ``acc``."""
    label_set = s.task.label_set(s.source.label_set)
    if label_set.kind != "closed" or BASELINE_METRIC not in s.metrics or not s.pset.rows:
        return None
    labels = {normalize_label_text(label) for label in label_set.labels}
    counts = Counter(normalize_label_text(row.reference) for row in s.pset.rows)
    inside = {ref: count for ref, count in counts.items() if ref in labels}
    n = len(s.pset.rows)
    top = max(inside, key=lambda ref: (inside[ref], ref)) if inside else None
    return {"majority": inside[top] / n if top else 0.0, "majority_label": top,
            "chance": sum(inside.values()) / n / len(labels), "labels": len(labels), "n": n}


def _pool_baselines(sets: list[SetScore]) -> dict[str, dict[str, Any]]:
    """Per task: the files' baselines pooled by their sample counts."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in sets:
        baseline = set_baselines(s)
        if baseline is not None:
            grouped[s.task.id].append(baseline)
    pooled = {}
    for tid, files in grouped.items():
        n = sum(f["n"] for f in files)
        labels = sorted({f["majority_label"] for f in files if f["majority_label"]})
        pooled[tid] = {BASELINE_METRIC: {
            "majority": sum(f["majority"] * f["n"] for f in files) / n,
            "chance": sum(f["chance"] * f["n"] for f in files) / n,
            "majority_labels": labels, "n": n}}
    return pooled


def build_baselines(sets: list[SetScore]) -> dict[str, Any]:
    """``baselines`` of results.json: per task (all modalities) and per modality and task."""
    modalities = {m: _pool_baselines([s for s in sets if s.modality == m]) for m in sorted({s.modality for s in sets})}
    return {"rule": BASELINE_RULE, "tasks": _pool_baselines(sets),
            "modalities": {m: b for m, b in modalities.items() if b}}


def build_results(run: ScoreRun, *, system: str, inputs: list[str]) -> dict[str, Any]:
    tasks = _by_task(run.sets)
    modalities: dict[str, dict[str, Any]] = {}
    for modality in sorted({s.modality for s in run.sets}):
        subset = [s for s in run.sets if s.modality == modality]
        modalities[modality] = {tid: t["metrics"] for tid, t in _by_task(subset).items()}
    categories: dict[str, dict[str, Any]] = defaultdict(dict)
    per_cat: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for t in tasks.values():
        for name, m in t["metrics"].items():
            per_cat[t["category"]][name].append(m)
    for cat, metrics in per_cat.items():
        for name, ms in metrics.items():
            values = [m["value"] for m in ms if m["value"] is not None]
            categories[cat][name] = {"value": sum(values) / len(values) if values else None,
                                     "tasks": len(ms), "higher_is_better": ms[0]["higher_is_better"]}
    judge_sources: dict[str, int] = defaultdict(int)
    for s in run.sets:
        for k, v in s.judge_sources.items():
            judge_sources[k] += v
    return {
        "schema_version": SCHEMA_VERSION,
        "system": system,
        "protocol": run.protocol.value,
        "judge": {**run.judge.fingerprint(run.protocol.value), "sources": dict(judge_sources)},
        "aggregation": AGGREGATION,
        "llaso_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
        "files": [{"file": s.pset.name, "path": str(s.pset.path), "task": s.task.id,
                   "category": s.task.category.value, "modality": s.modality, "source": s.source.stem,
                   "n": len(s.pset.rows), "metrics": {k: metric_dict(m) for k, m in s.metrics.items()},
                   "extra": {k: m.extra for k, m in s.metrics.items() if m.extra}} for s in run.sets],
        "tasks": tasks,
        "modalities": modalities,
        "categories": dict(categories),
        "baselines": build_baselines(run.sets),
        "unknown_files": run.unknown_files,
        "problems": run.problems,
        "left_out": run.left_out,
        "complete": run.complete,
    }


def csv_rows(run: ScoreRun) -> list[dict[str, Any]]:
    """One row per file and metric; ``n`` is the number of samples the value was computed on, and a
    MAE also gets an ``n_valid`` row (as in the release's ``expected.csv``)."""
    rows = []
    for s in run.sets:
        for name, m in s.metrics.items():
            rows.append({"file": s.pset.name, "task": s.task.id, "modality": s.modality, "metric": name,
                         "value": m.value, "n": m.n_used, "n_invalid": m.n_invalid})
            if name == "mae":
                rows.append({"file": s.pset.name, "task": s.task.id, "modality": s.modality,
                             "metric": "n_valid", "value": m.n_used, "n": m.n, "n_invalid": m.n_invalid})
    return rows


def sample_records(run: ScoreRun) -> Iterable[dict[str, Any]]:
    for s in run.sets:
        for i, row in enumerate(s.pset.rows):
            yield {"file": s.pset.name, "index": row.index, "task": s.task.id, "modality": s.modalities[i],
                   "reference": row.reference, "prediction": row.prediction, "extracted": s.extracted[i],
                   "scores": {name: _sample(m, i) for name, m in s.metrics.items()}}


def _sample(m: MetricResult, i: int) -> dict[str, Any] | None:
    if not m.samples:
        return None
    sample = m.samples[i]
    out: dict[str, Any] = {"value": sample.value}
    if sample.invalid:
        out["invalid"] = sample.note or True
    return out


def write_results(run: ScoreRun, out: Path, *, system: str, inputs: list[str]) -> dict[str, Any]:
    """Write results.json, results.csv and samples.jsonl into ``out``; return the results dict."""
    out.mkdir(parents=True, exist_ok=True)
    results = build_results(run, system=system, inputs=inputs)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(csv_rows(run))
    with open(out / "samples.jsonl", "w", encoding="utf-8") as handle:
        for record in sample_records(run):
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return results
