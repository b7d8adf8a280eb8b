"""Small but realistic ``results.json`` dicts (schema ``llaso.results/1``) for the report tests.

Values are loosely based on the released LLaSO-Base / Qwen2-Audio predictions; the per-task and
per-category aggregates are computed from the per-modality values the same way ``llaso score``
does (sample-weighted mean over files, mean over tasks), so the dicts are self-consistent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

L, S, PS, PC = "linguistic", "semantic", "paralinguistic-speaker", "paralinguistic-content"

#: task -> (name, category, {metric: unit}); metric order = the task's metric order.
TASKS: dict[str, tuple[str, str, dict[str, str]]] = {
    "ASR": ("automatic speech recognition", L, {"wer": "fraction", "cer": "fraction"}),
    "AQA": ("audio question answering", S, {"judge": "score"}),
    "SGC": ("speaker gender classification", PS, {"acc": "fraction", "abstention": "fraction"}),
    "AC": ("accent classification", PS, {"acc": "fraction", "abstention": "fraction"}),
    "AR": ("age recognition", PS, {"acc": "fraction", "abstention": "fraction", "mae": "years"}),
    "ER": ("emotion recognition", PS, {"acc": "fraction", "abstention": "fraction"}),
    "PSSL": ("pronunciation scoring, sentence level", PS, {"pssl_acc": "fraction", "judge": "score"}),
    "PR": ("phoneme recognition", PC, {"per": "fraction"}),
    "SCR": ("speech command recognition", PC, {"wer": "fraction", "cer": "fraction", "judge": "score"}),
    "IC": ("instrument classification", PC, {"acc": "fraction", "abstention": "fraction"}),
    "VC": ("velocity classification", PC, {"acc": "fraction", "abstention": "fraction"}),
    "PP": ("pitch prediction", PC, {"mae": "semitones"}),
    "IP": ("intent prediction", PC, {"judge": "score"}),
}
LOWER_IS_BETTER = {"wer", "cer", "per", "abstention", "mae"}

# system -> task -> metric -> {modality: value}
VALUES: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {
    "LLaSO-Base": {
        "ASR": {"wer": {"ta": 0.085, "pa": 0.091}, "cer": {"ta": 0.036, "pa": 0.040}},
        "AQA": {"judge": {"ta": 2.72, "pa": 2.39, "at": 2.06}},
        "SGC": {"acc": {"ta": 0.99, "pa": 0.96}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "AC": {"acc": {"ta": 0.83, "pa": 0.73}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "AR": {"acc": {"ta": 0.70, "pa": 0.50}, "abstention": {"ta": 0.0, "pa": 0.0},
               "mae": {"ta": 10.3, "pa": 11.1}},
        "ER": {"acc": {"ta": 0.26, "pa": 0.17}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "PSSL": {"pssl_acc": {"ta": 0.39, "pa": 0.35}, "judge": {"ta": 2.80, "pa": 2.70}},
        "PR": {"per": {"ta": 0.031, "pa": 0.035}},
        "SCR": {"wer": {"ta": 0.04, "pa": 0.05}, "cer": {"ta": 0.024, "pa": 0.030},
                "judge": {"ta": 4.86, "pa": 4.70}},
        "IC": {"acc": {"ta": 0.50, "pa": 0.60}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "VC": {"acc": {"ta": 0.18, "pa": 0.20}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "PP": {"mae": {"ta": 8.02, "pa": 8.50}},
        "IP": {"judge": {"ta": 3.93, "pa": 3.60}},
    },
    "Qwen2-Audio": {
        "ASR": {"wer": {"ta": 0.220, "pa": 0.250}, "cer": {"ta": 0.124, "pa": 0.140}},
        "AQA": {"judge": {"ta": 3.47, "pa": 2.73, "at": 2.41}},
        "SGC": {"acc": {"ta": 0.95, "pa": 0.99}, "abstention": {"ta": 0.0, "pa": 0.0}},
        "AC": {"acc": {"ta": 0.12, "pa": 0.05}, "abstention": {"ta": 0.57, "pa": 0.70}},
        "AR": {"acc": {"ta": 0.23, "pa": 0.52}, "abstention": {"ta": 0.10, "pa": 0.01},
               "mae": {"ta": 18.7, "pa": 17.9}},
        "ER": {"acc": {"ta": 0.24, "pa": 0.30}, "abstention": {"ta": 0.53, "pa": 0.59}},
        "PSSL": {"pssl_acc": {"ta": 0.17, "pa": None}, "judge": {"ta": 1.95, "pa": 1.86}},
        "PR": {"per": {"ta": 0.763, "pa": 0.70}},
        "SCR": {"wer": {"ta": 1.0, "pa": 0.98}, "cer": {"ta": 0.853, "pa": 0.80},
                "judge": {"ta": 3.04, "pa": 3.20}},
        "IC": {"acc": {"ta": 0.60, "pa": 0.36}, "abstention": {"ta": 0.02, "pa": 0.06}},
        "VC": {"acc": {"ta": 0.02, "pa": 0.05}, "abstention": {"ta": 0.86, "pa": 0.80}},
        "PP": {"mae": {"ta": None, "pa": None}},  # no parseable answer: null values
        "IP": {"judge": {"ta": 2.52, "pa": 2.40}},
    },
    "Toy-Baseline": {
        "ASR": {"wer": {"ta": 0.45, "pa": 0.52}, "cer": {"ta": 0.30, "pa": 0.33}},
        "AQA": {"judge": {"ta": 1.90, "pa": None, "at": 1.20}},
        "SGC": {"acc": {"ta": 0.60, "pa": 0.55}, "abstention": {"ta": 0.20, "pa": 0.25}},
        "ER": {"acc": {"ta": 0.20, "pa": 0.18}, "abstention": {"ta": 0.35, "pa": 0.40}},
        "IC": {"acc": {"ta": 0.40, "pa": 0.30}, "abstention": {"ta": 0.10, "pa": 0.15}},
        "PP": {"mae": {"ta": 15.0, "pa": 14.0}},
    },
}
N = 100


def _metric(name: str, unit: str, value: float | None, n: int, files: int | None = None) -> dict[str, Any]:
    used = 0 if value is None else n
    out = {"value": value, "n": n, "n_used": used, "n_invalid": n - used,
           "higher_is_better": name not in LOWER_IS_BETTER, "unit": unit}
    if files is not None:
        out["files"] = files
    return out


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def make_results(system: str, protocol: str = "paper", judge_model: str | None = "gpt-4o-mini",
                 judge_source: str = "recorded", problems: list[str] | None = None,
                 unknown_files: list[dict] | None = None) -> dict[str, Any]:
    """One results dict for ``system`` (a key of :data:`VALUES`)."""
    files, tasks, modalities = [], {}, {}
    for task_id, per_metric in VALUES[system].items():
        name, category, units = TASKS[task_id]
        mods = list(dict.fromkeys(m for v in per_metric.values() for m in v))
        for mod in mods:
            stem = f"{task_id.lower()}_{mod}_test"
            metrics = {m: _metric(m, units[m], per_metric[m].get(mod), N) for m in units if m in per_metric}
            files.append({"file": stem, "path": f"/preds/{system}/{stem}.json", "task": task_id,
                          "category": category, "modality": mod, "source": f"{task_id.lower()}_source",
                          "n": N, "metrics": metrics})
            modalities.setdefault(mod, {})[task_id] = {
                m: _metric(m, units[m], per_metric[m].get(mod), N, files=1) for m in metrics}
        task_metrics = {}
        for m in units:
            if m not in per_metric:
                continue
            present = [v for v in per_metric[m].values() if v is not None]
            task_metrics[m] = {**_metric(m, units[m], _mean(present), N * len(per_metric[m]), files=len(mods)),
                               "n_used": N * len(present), "n_invalid": N * (len(per_metric[m]) - len(present))}
        tasks[task_id] = {"name": name, "category": category, "metrics": task_metrics}
    categories: dict[str, dict[str, Any]] = {}
    for cat in (L, S, PS, PC):
        members = [t for t in tasks.values() if t["category"] == cat]
        for m in dict.fromkeys(m for t in members for m in t["metrics"]):
            values = [t["metrics"][m]["value"] for t in members if m in t["metrics"]
                      and t["metrics"][m]["value"] is not None]
            categories.setdefault(cat, {})[m] = {"value": _mean(values), "tasks": len(values),
                                                 "higher_is_better": m not in LOWER_IS_BETTER}
    judged = [f for f in files if "judge" in f["metrics"]]
    missing = sum(f["n"] for f in judged if f["metrics"]["judge"]["value"] is None)
    sources = {"recorded": 0, "cache": 0, "api": 0, "missing": missing}
    sources[judge_source] = sum(f["n"] for f in judged) - missing
    return {
        "schema_version": "llaso.results/1", "system": system, "protocol": protocol,
        "judge": {"model": judge_model, "prompt_version": "appendix-o/1" if protocol == "paper" else "strict/1",
                  "sources": sources},
        "llaso_version": "0.1.0", "created": "2025-01-01T12:00:00+00:00",
        "files": files, "tasks": tasks, "modalities": modalities, "categories": categories,
        "unknown_files": unknown_files or [], "problems": problems or [],
    }


def llaso_base() -> dict[str, Any]:
    return make_results("LLaSO-Base")


def qwen2_audio() -> dict[str, Any]:
    return make_results("Qwen2-Audio", problems=["PP (pa): no parseable answer in 100 samples"],
                        unknown_files=[{"path": "/preds/Qwen2-Audio/notes.json", "reason": "no task maps this file"}])


def toy_baseline_strict() -> dict[str, Any]:
    return make_results("Toy-Baseline", protocol="strict", judge_model="gpt-4o-mini", judge_source="api",
                        problems=["AQA (pa): judge unavailable for 100 samples (reported as missing)"])


def write(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


if __name__ == "__main__":  # python -m tests.reports.fixtures OUT_DIR: write the three fixtures
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "report-fixtures")
    for maker in (llaso_base, qwen2_audio, toy_baseline_strict):
        data = maker()
        print(write(data, out / data["system"] / "results.json"))
