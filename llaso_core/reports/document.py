"""The report's content as a small list of blocks, rendered by :mod:`.markdown` and :mod:`.html`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from llaso_core import __version__

from .aggregate import (
    BASELINES,
    CATEGORY_ORDER,
    CATEGORY_SHORT,
    MODALITY_ORDER,
    Cell,
    baseline_values,
    metric_direction,
    value_of,
)
from .data import ReportData
from .figures import FigureInfo
from .load import SystemResults

ARROWS = {True: "↑", False: "↓"}
MISSING = "—"
MODALITY_NAMES = {"ta": "TA (text instruction + audio input)", "pa": "PA (pure audio)",
                  "at": "AT (audio instruction + text input)"}


@attrs.frozen
class Heading:
    level: int
    text: str
    anchor: str = ""


@attrs.frozen
class Para:
    text: str
    kind: str = "text"  # text | note | warning


@attrs.frozen
class Bullets:
    items: list[str]


@attrs.frozen
class Table:
    headers: list[str]
    rows: list[list[str]]
    bold: frozenset[tuple[int, int]] = frozenset()
    numeric_from: int = 1  # columns from this index on are right-aligned


@attrs.frozen
class Figure:
    info: FigureInfo


Block = Heading | Para | Bullets | Table | Figure


def format_value(value: float | None, unit: str = "", metric: str = "") -> str:
    """Fractions with 3 decimals, scores and MAE with 2; ``—`` when absent."""
    if value is None:
        return MISSING
    if unit == "fraction" or metric in ("wer", "cer", "per", "acc", "abstention", "pssl_acc"):
        return f"{value:.3f}"
    return f"{value:.2f}"


def metric_label(metric: str, higher_is_better: bool, unit: str = "") -> str:
    shown_unit = f" [{unit}]" if unit and unit not in ("fraction", "score") else ""
    return f"{metric}{shown_unit} {ARROWS[higher_is_better]}"


def best_columns(values: Sequence[float | None], higher_is_better: bool) -> set[int]:
    """Indices of the best value(s) of a row; none when fewer than two values or all tie."""
    present = [v for v in values if v is not None]
    if len(present) < 2 or len(set(present)) == 1:
        return set()
    best = max(present) if higher_is_better else min(present)
    return {i for i, v in enumerate(values) if v == best}


def _systems_section(data: ReportData) -> list[Block]:
    rows = []
    for s in data.systems:
        src = s.judge.get("sources") or {}
        sources = " / ".join(str(src.get(k, 0)) for k in ("recorded", "cache", "api", "missing"))
        rows.append([s.label, s.protocol, s.judge.get("model") or "none", s.judge.get("prompt_version") or MISSING,
                     sources, s.data.get("llaso_version") or MISSING, s.data.get("created") or MISSING, s.path])
    blocks: list[Block] = [
        Heading(2, "Compared systems", "systems"),
        Table(["System", "Protocol", "Judge model", "Judge prompt", "Judge sources (recorded / cache / api / missing)",
               "llaso", "Scored", "Results file"], rows, numeric_from=99),
    ]
    for w in data.warnings:
        blocks.append(Para(w, "warning"))
    if len(data.protocols) == 1:
        blocks.append(Para(f"All results were scored with the '{data.protocols[0]}' protocol "
                           "(see docs/metrics.md for what each protocol does).", "note"))
    return blocks


def _overall_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Normalised overall score", "overall"), Para(data.recipe)]
    norm = data.normalised
    if norm is None:
        blocks.append(Para("Only one system was given: min-max normalisation needs at least two systems, so no "
                           "normalised or overall score is reported.", "note"))
        return blocks
    rows = [[label, format_value(norm.overall[label], "score"), str(norm.n_cells[label])] for label in data.labels]
    overall = [norm.overall[label] for label in data.labels]
    bold = frozenset((i, 1) for i in best_columns(overall, True))
    blocks.append(Table(["System", "Overall normalised score ↑", "Cells"], rows, bold))
    if norm.skipped:
        blocks.append(Para("Cells left out of the normalisation: " + "; ".join(
            f"{t} {m} ({why})" for t, m, why in norm.skipped) + ".", "note"))
    return blocks


def _modalities_of(data: ReportData, task: str) -> list[str]:
    """The input modalities any system has values of ``task`` for, in report order."""
    found = {m for s in data.systems for m, tasks in s.modalities.items() if task in (tasks or {})}
    return [m for m in MODALITY_ORDER if m in found] + sorted(found - set(MODALITY_ORDER))


def _metric_info(system: SystemResults, task: str, metric: str, modality: str | None) -> Mapping[str, Any]:
    """A system's metric entry for ``task``: pooled (``modality`` None) or within one modality."""
    if modality is None:
        return ((system.tasks.get(task) or {}).get("metrics") or {}).get(metric) or {}
    return ((system.modalities.get(modality) or {}).get(task) or {}).get(metric) or {}


def _value_cell(info: Mapping[str, Any], unit: str, metric: str) -> str:
    """A value with † when some of its samples were invalid or unscored."""
    value = value_of(info)
    return format_value(value, unit, metric) + (" †" if value is not None and (info.get("n_invalid") or 0) > 0 else "")


def _baseline_cells(data: ReportData, c: Cell, modality: str | None) -> list[str]:
    found = baseline_values(data.systems, c.task, c.metric, modality)
    return [" / ".join(format_value(v, c.unit, c.metric) for v in found[kind]) or MISSING for kind in BASELINES]


def _task_rows(data: ReportData, c: Cell, with_baselines: bool) -> tuple[list[list[str]], set[tuple[int, int]]]:
    """One row per input modality of the cell's task, then the pooled row when there are several
    (a task with one modality, or files without per-modality values, get the pooled row alone)."""
    modalities = _modalities_of(data, c.task)
    shown: list[str | None] = [*modalities, None] if len(modalities) > 1 else [None]
    rows, bold = [], set()
    for r, modality in enumerate(shown):
        infos = [_metric_info(s, c.task, c.metric, modality) for s in data.systems]
        if modality is not None:
            name = modality.upper()
        else:
            name = "all (pooled)" if len(modalities) > 1 else (modalities[0].upper() if modalities else "all")
        row = [f"{c.task} ({c.task_name})", metric_label(c.metric, c.higher_is_better, c.unit), name]
        row += [_value_cell(info, c.unit, c.metric) for info in infos]
        if with_baselines:
            row += _baseline_cells(data, c, modality if len(modalities) > 1 else None)
        rows.append(row)
        bold |= {(r, 3 + j) for j in best_columns([value_of(i) for i in infos], c.higher_is_better)}
    return rows, bold


def _task_tables(data: ReportData) -> list[Block]:
    with_baselines = any(s.baselines.get("tasks") for s in data.systems)
    blocks: list[Block] = [
        Heading(2, "Results per task", "tasks"),
        Para("Per-task values, one row per input modality (" + "; ".join(MODALITY_NAMES.values()) + "), then "
             "the modalities pooled as written by `llaso score` (the pooled values are the ones normalised above). "
             "↑ higher is better, ↓ lower is better; the best value of each row is in bold; — no value; † some "
             "samples of this cell were invalid or unscored (see n_invalid in results.json)."),
    ]
    if with_baselines:
        blocks.append(Para("Majority and Chance are reference baselines of the closed-set tasks, computed from the "
                           "evaluation references and the task's label set: always answering the most frequent "
                           "label, and answering a label drawn uniformly at random. A system that has learned the "
                           "task scores above both."))
    if any("pa" in _modalities_of(data, c.task) for c in data.cells):
        blocks.append(Para("PA (pure audio) queries carry the instruction only as speech: to know what is asked, a "
                           "model must understand the spoken request. A model that cannot read speech (such as the "
                           "tiny model trained from scratch on the mini-corpus) answers PA queries near the "
                           "baselines however well it learned a task, so judge its learning by the TA rows; PA has "
                           "rows of its own and is not averaged into TA.", "note"))
    categories = list(dict.fromkeys([c for c in CATEGORY_ORDER if any(x.category == c for x in data.cells)]
                                    + [x.category for x in data.cells]))
    headers = ["Task", "Metric", "Modality", *data.labels] + (["Majority", "Chance"] if with_baselines else [])
    for cat in categories:
        rows: list[list[str]] = []
        bold: set[tuple[int, int]] = set()
        for c in (x for x in data.cells if x.category == cat):
            cell_rows, cell_bold = _task_rows(data, c, with_baselines)
            bold |= {(len(rows) + r, col) for r, col in cell_bold}
            rows += cell_rows
        short = CATEGORY_SHORT.get(cat)
        blocks.append(Heading(3, f"{cat.capitalize()}" + (f" ({short})" if short else "")))
        blocks.append(Table(headers, rows, frozenset(bold), numeric_from=3))
    return blocks


def _category_table(data: ReportData) -> list[Block]:
    labels = data.labels
    rows, bold = [], set()
    keys: dict[tuple[str, str], bool] = {}
    for s in data.systems:
        for cat, metrics in s.categories.items():
            for m, info in metrics.items():
                keys.setdefault((cat, m), metric_direction(m, info))
    ordered = sorted(keys, key=lambda k: (CATEGORY_ORDER.index(k[0]) if k[0] in CATEGORY_ORDER else 99))
    for cat, m in ordered:
        values = [value_of((s.categories.get(cat) or {}).get(m)) for s in data.systems]
        r = len(rows)
        rows.append([cat, metric_label(m, keys[(cat, m)])] + [format_value(v, "", m) for v in values])
        bold |= {(r, 2 + j) for j in best_columns(values, keys[(cat, m)])}
    if not rows:
        return []
    return [Heading(3, "Per-category means"),
            Para("Mean over the category's tasks of each metric, from the results files."),
            Table(["Category", "Metric", *labels], rows, frozenset(bold), numeric_from=2)]


def _stability_table(data: ReportData) -> list[Block]:
    if not data.stability:
        return []
    rows = []
    for e in sorted(data.stability, key=lambda e: (list(dict.fromkeys(x.task for x in data.stability)).index(e.task),
                                                   data.labels.index(e.label))):
        rows.append([e.task, metric_label(e.metric, e.higher_is_better, e.unit), e.label]
                    + [format_value(e.modality_values.get(m), e.unit, e.metric) for m in MODALITY_ORDER]
                    + [format_value(e.value, e.unit, e.metric)])
    return [Heading(3, "Cross-modality stability"),
            Para("Stability = |TA − PA| + |TA − AT| on the task's primary metric (first listed), over the "
                 "modalities with a value; lower is more stable (paper Fig. 8)."),
            Table(["Task", "Metric", "System", "TA", "PA", "AT", "Stability ↓"], rows, numeric_from=3)]


def _cells(n: int) -> str:
    return f"{n} cell{'s' if n != 1 else ''}"


def _category_comparison_table(data: ReportData) -> list[Block]:
    rows = []
    for basis, scores in data.categories.items():
        name = "mean normalised score" if basis == "normalised" else "mean accuracy-type metric"
        for label in data.labels:
            s = scores[label]
            rows.append([name, label, f"{format_value(s.content, 'score')} ({_cells(s.n_content)})",
                         f"{format_value(s.speaker, 'score')} ({_cells(s.n_speaker)})"])
    return [Heading(3, "Content- vs speaker-centric tasks"),
            Para("Per system, the mean over paralinguistic-content (PC) and paralinguistic-speaker (PS) cells "
                 "(paper Fig. 7). Accuracy-type metrics are the higher-is-better fractions (acc, pssl_acc)."),
            Table(["Basis", "System", "Content-centric (PC) ↑", "Speaker-centric (PS) ↑"], rows, numeric_from=2)]


def _figures_section(figures: Sequence[FigureInfo], notes: Sequence[str]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Figures", "figures")]
    for f in figures:
        blocks += [Heading(3, f.title), Figure(f), Para(f.caption, "note")]
    for n in notes:
        blocks.append(Para(n, "note"))
    return blocks


def _problems_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Problems and unknown files", "problems")]
    for s in data.systems:
        items = [f"problem: {p}" for p in s.problems]
        items += [f"unknown file: {u.get('path', '?')} ({u.get('reason', 'no reason given')})" for u in s.unknown_files]
        blocks.append(Heading(3, s.label))
        blocks.append(Bullets(items) if items else Para("None reported.", "note"))
    return blocks


def build_document(data: ReportData, figures: Sequence[FigureInfo], notes: Sequence[str] = ()) -> list[Block]:
    """The whole report as blocks, in reading order."""
    intro = (f"{len(data.systems)} system{'s' if len(data.systems) != 1 else ''} compared: "
             + ", ".join(data.labels) + f". Generated by llaso {__version__} on {data.created}.")
    return [
        Heading(1, data.title), Para(intro),
        *_systems_section(data), *_overall_section(data), *_task_tables(data), *_category_table(data),
        *_figures_section(figures, notes), Heading(2, "Aggregates behind the figures"),
        *_stability_table(data), *_category_comparison_table(data), *_problems_section(data),
    ]
