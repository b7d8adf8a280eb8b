"""The report's arithmetic, as pure functions over plain values (no plotting; metric directions come
from the registered metric declarations, `declared_directions`).

- :func:`minmax_normalise` / :func:`normalised_scores`: the paper's Fig. 1 recipe - per task-metric
  cell, min-max normalise across the compared systems, invert lower-is-better, average over cells.
- :func:`stability`: cross-modality stability ``|TA - PA| + |TA - AT|`` (paper Fig. 8).
- :func:`category_comparison`: paralinguistic content- vs speaker-centric means (paper Fig. 7).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .load import SystemResults

MODALITY_ORDER = ("ta", "pa", "at")
CATEGORY_ORDER = ("linguistic", "semantic", "paralinguistic-speaker", "paralinguistic-content")
CATEGORY_SHORT = {"linguistic": "L", "semantic": "S", "paralinguistic-speaker": "PS",
                  "paralinguistic-content": "PC"}
CONTENT, SPEAKER = "paralinguistic-content", "paralinguistic-speaker"

#: Metrics reported but left out of the normalised overall score: abstention is a diagnostic of
#: closed-set answers (shown on its own) and is already counted as wrong by ``acc`` in ``strict``.
DIAGNOSTIC_METRICS = ("abstention",)

NORMALISATION_RECIPE = (
    "For each task-metric cell (per-task values, all modalities pooled), the values of the compared "
    "systems are min-max normalised across systems: (v - min) / (max - min) when higher is better, "
    "(max - v) / (max - min) when lower is better, so 1 is the best and 0 the worst system in that "
    "cell. A system's overall score is the mean of its normalised cells (paper Fig. 1 caption); a "
    "task's score is the mean over that task's cells. Cells with fewer than two values, or where "
    "all systems tie, carry no ranking information and are left out; {excluded}. "
    "Normalisation needs at least two systems, and the score is relative to the systems compared."
)


def recipe_text(exclude_metrics: Sequence[str] = DIAGNOSTIC_METRICS) -> str:
    """The normalisation recipe in words, as stated in every report."""
    if exclude_metrics:
        names = ", ".join(f"'{m}'" for m in exclude_metrics)
        plural = len(exclude_metrics) > 1
        excluded = (f"the diagnostic metric{'s' if plural else ''} {names} (shown separately) "
                    f"{'are' if plural else 'is'} not counted")
    else:
        excluded = "every metric is counted"
    return NORMALISATION_RECIPE.format(excluded=excluded)


def value_of(metric: Mapping[str, Any] | None) -> float | None:
    """The metric's value as a float, ``None`` when absent, null or not finite."""
    if not metric:
        return None
    value = metric.get("value")
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@functools.cache
def declared_directions() -> dict[str, bool]:
    """``higher_is_better`` of every metric as declared: ``BUILTIN_METRICS`` and the metric specs
    the loaded plugins register (a third-party metric's direction comes from its own spec)."""
    from llaso_core.loader import get_host
    from llaso_core.metrics import BUILTIN_METRICS

    directions = {spec.id: spec.higher_is_better for spec in BUILTIN_METRICS}
    directions.update({entry.id: entry.spec.higher_is_better for entry in get_host().metrics.entries()})
    return directions


def metric_direction(name: str, metric: Mapping[str, Any] | None = None) -> bool:
    """Whether higher is better: the metric's declaration (``declared_directions``), else the
    results file's ``higher_is_better`` (a metric no loaded plugin declares), else higher."""
    declared = declared_directions().get(name)
    if declared is not None:
        return declared
    if metric and isinstance(metric.get("higher_is_better"), bool):
        return metric["higher_is_better"]
    return True


@attrs.frozen
class Cell:
    """One task-metric cell of the comparison: the value of each system (``None`` if absent)."""

    task: str
    metric: str
    category: str
    task_name: str
    higher_is_better: bool
    unit: str
    values: Mapping[str, float | None]

    @property
    def key(self) -> tuple[str, str]:
        return (self.task, self.metric)


def _category_rank(category: str) -> int:
    return CATEGORY_ORDER.index(category) if category in CATEGORY_ORDER else len(CATEGORY_ORDER)


def collect_cells(systems: Sequence[SystemResults]) -> list[Cell]:
    """Every task-metric cell found in any system, ordered by category, then first appearance."""
    order: dict[tuple[str, str], dict[str, Any]] = {}
    task_seen: dict[str, int] = {}
    for s in systems:
        for task_id, task in s.tasks.items():
            task_seen.setdefault(task_id, len(task_seen))
            for name, metric in (task.get("metrics") or {}).items():
                info = order.setdefault((task_id, name), {
                    "category": task.get("category") or "unknown", "task_name": task.get("name") or task_id,
                    "higher_is_better": metric_direction(name, metric), "unit": metric.get("unit") or ""})
                if not info["unit"] and metric.get("unit"):
                    info["unit"] = metric["unit"]
    keys = sorted(order, key=lambda k: (_category_rank(order[k]["category"]), task_seen[k[0]]))
    cells = []
    for task_id, name in keys:
        info = order[(task_id, name)]
        values = {s.label: value_of(((s.tasks.get(task_id) or {}).get("metrics") or {}).get(name))
                  for s in systems}
        cells.append(Cell(task=task_id, metric=name, values=values, **info))
    return cells


BASELINES = ("majority", "chance")


def baseline_values(systems: Sequence[SystemResults], task: str, metric: str,
                    modality: str | None = None) -> dict[str, list[float]]:
    """The reference baselines (majority class, uniform chance) of a task-metric cell, pooled over
    modalities or within ``modality``, as the results files state them: per kind the distinct
    values (one when the systems were evaluated on the same references; none when no file has one)."""
    found: dict[str, list[float]] = {kind: [] for kind in BASELINES}
    for s in systems:
        section = s.baselines.get("tasks") if modality is None else (s.baselines.get("modalities") or {}).get(modality)
        cell = ((section or {}).get(task) or {}).get(metric) or {}
        for kind in BASELINES:
            value = value_of({"value": cell.get(kind)})
            if value is not None and all(abs(value - v) > 1e-9 for v in found[kind]):
                found[kind].append(value)
    return found


def minmax_normalise(values: Mapping[str, float | None], higher_is_better: bool) -> dict[str, float]:
    """Min-max normalise one cell across systems; 1 = best, 0 = worst.

    Systems without a value get no entry; with fewer than two values, or all values equal, the
    cell cannot rank anyone and the result is empty.
    """
    present = {k: float(v) for k, v in values.items() if v is not None and math.isfinite(v)}
    if len(present) < 2:
        return {}
    lo, hi = min(present.values()), max(present.values())
    if hi == lo:
        return {}
    span = hi - lo
    return {k: ((v - lo) if higher_is_better else (hi - v)) / span for k, v in present.items()}


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


@attrs.frozen
class Normalised:
    """Normalised scores: per cell, per task (mean of its cells) and overall (mean of all cells)."""

    cells: list[tuple[Cell, dict[str, float]]]
    per_task: dict[str, dict[str, float]]
    overall: dict[str, float | None]
    n_cells: dict[str, int]
    skipped: list[tuple[str, str, str]]
    excluded_metrics: tuple[str, ...]


def normalised_scores(cells: Sequence[Cell], labels: Sequence[str],
                      exclude_metrics: Sequence[str] = DIAGNOSTIC_METRICS) -> Normalised | None:
    """The Fig. 1 recipe over ``cells``; ``None`` with fewer than two systems."""
    if len(labels) < 2:
        return None
    used: list[tuple[Cell, dict[str, float]]] = []
    skipped: list[tuple[str, str, str]] = []
    for cell in cells:
        if cell.metric in exclude_metrics:
            continue
        scores = minmax_normalise(cell.values, cell.higher_is_better)
        if scores:
            used.append((cell, scores))
        else:
            present = sum(v is not None for v in cell.values.values())
            skipped.append((cell.task, cell.metric, "all systems tie" if present >= 2 else
                            f"{present} system{'s' if present != 1 else ''} with a value"))
    per_task: dict[str, dict[str, float]] = {}
    for cell, scores in used:
        per_task.setdefault(cell.task, {})
    for task in per_task:
        for label in labels:
            mean = _mean(s[label] for c, s in used if c.task == task and label in s)
            if mean is not None:
                per_task[task][label] = mean
    overall = {label: _mean(s[label] for _, s in used if label in s) for label in labels}
    n_cells = {label: sum(label in s for _, s in used) for label in labels}
    return Normalised(cells=used, per_task=per_task, overall=overall, n_cells=n_cells, skipped=skipped,
                      excluded_metrics=tuple(exclude_metrics))


def primary_metric(task: Mapping[str, Any]) -> str | None:
    """The task's primary metric: the first one listed."""
    return next(iter(task.get("metrics") or {}), None)


def stability(values: Mapping[str, float | None]) -> tuple[float | None, dict[str, float]]:
    """``|TA - PA| + |TA - AT|`` over the modalities that have a value.

    Returns the sum and its terms (``{"pa": |TA-PA|, "at": |TA-AT|}``); ``(None, {})`` when TA
    or both other modalities are missing. Lower means more stable across input modalities.
    """
    ta = values.get("ta")
    if ta is None:
        return None, {}
    terms = {m: abs(ta - v) for m in ("pa", "at") if (v := values.get(m)) is not None}
    if not terms:
        return None, {}
    return sum(terms.values()), terms


@attrs.frozen
class StabilityEntry:
    task: str
    metric: str
    label: str
    value: float
    terms: dict[str, float]
    modality_values: dict[str, float | None]
    higher_is_better: bool
    unit: str


def stability_table(systems: Sequence[SystemResults]) -> list[StabilityEntry]:
    """Stability of each system on each task with a TA value and at least one of PA/AT.

    Computed on the task's primary metric (first listed), from the ``modalities`` section.
    """
    entries = []
    for s in systems:
        for task_id, task in s.tasks.items():
            metric = primary_metric(task)
            if metric is None:
                continue
            per_mod = {m: value_of(((s.modalities.get(m) or {}).get(task_id) or {}).get(metric))
                       for m in MODALITY_ORDER}
            total, terms = stability(per_mod)
            if total is None:
                continue
            info = (task.get("metrics") or {}).get(metric) or {}
            entries.append(StabilityEntry(task=task_id, metric=metric, label=s.label, value=total, terms=terms,
                                          modality_values=per_mod, higher_is_better=metric_direction(metric, info),
                                          unit=info.get("unit") or ""))
    return entries


def abstention_table(cells: Sequence[Cell]) -> list[Cell]:
    """The abstention cells: one per closed-set task that reports abstention."""
    return [c for c in cells if c.metric == "abstention"]


def is_accuracy_type(cell: Cell) -> bool:
    """Accuracy-like metrics: fractions where higher is better (``acc``, ``pssl_acc``)."""
    return cell.higher_is_better and (cell.unit == "fraction" or cell.metric in ("acc", "pssl_acc"))


@attrs.frozen
class CategoryScore:
    content: float | None
    speaker: float | None
    n_content: int
    n_speaker: int


def category_comparison(cells: Sequence[Cell], labels: Sequence[str],
                        normalised: Normalised | None = None) -> dict[str, dict[str, CategoryScore]]:
    """Paralinguistic content- vs speaker-centric means per system (paper Fig. 7).

    Two bases: ``"accuracy"`` - mean of the accuracy-type cells (:func:`is_accuracy_type`) of each
    category; ``"normalised"`` (only when ``normalised`` is given) - mean of the system's
    normalised cells in each category. Means are over cells.
    """
    out: dict[str, dict[str, CategoryScore]] = {}

    def score(pairs: list[tuple[str, float]]) -> CategoryScore:
        content = [v for c, v in pairs if c == CONTENT]
        speaker = [v for c, v in pairs if c == SPEAKER]
        return CategoryScore(_mean(content), _mean(speaker), len(content), len(speaker))

    if normalised is not None:
        out["normalised"] = {label: score([(c.category, s[label]) for c, s in normalised.cells if label in s])
                             for label in labels}
    out["accuracy"] = {label: score([(c.category, c.values[label]) for c in cells
                                     if is_accuracy_type(c) and c.values.get(label) is not None])
                       for label in labels}
    return out


def protocol_warning(systems: Sequence[SystemResults]) -> str | None:
    """A warning when the compared results were scored under different protocols."""
    protocols = {s.protocol for s in systems}
    if len(protocols) < 2:
        return None
    which = ", ".join(f"{s.label}: {s.protocol}" for s in systems)
    return ("The compared results use DIFFERENT PROTOCOLS (" + which + "). Their numbers are not "
            "comparable cell by cell, and the normalised scores mix protocols; re-score every system "
            "under one protocol before comparing them.")


def judge_warning(systems: Sequence[SystemResults]) -> str | None:
    """A warning when the judge model or prompt differs between the compared results."""
    judged = [s for s in systems if any(m == "judge" for t in s.tasks.values() for m in (t.get("metrics") or {}))]
    configs = {(s.judge.get("model"), s.judge.get("prompt_version")) for s in judged}
    if len(configs) < 2:
        return None
    which = ", ".join(f"{s.label}: {s.judge.get('model') or 'unknown'} / prompt {s.judge.get('prompt_version') or '?'}"
                      for s in judged)
    return f"Judge scores come from different judge models or prompts ({which}); compare them with care."
