"""The report's figures (matplotlib, Agg backend, imported lazily so the package stays light).

Each ``plot_*`` function takes a :class:`~llaso_core.reports.data.ReportData` and returns the PNG
bytes, or ``None`` when it has nothing to show; :func:`render_figures` writes them all.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .aggregate import CONTENT, SPEAKER, Cell, StabilityEntry
from .data import ReportData

DPI = 110
CATEGORY_COLOURS = {CONTENT: "#1b9e77", SPEAKER: "#d95f02"}


@attrs.frozen
class FigureInfo:
    """A rendered figure: file stem, title, caption, where it was written and its PNG bytes."""

    name: str
    title: str
    caption: str
    path: Path
    png: bytes = attrs.field(repr=False)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def system_colours(labels: Sequence[str]) -> dict[str, Any]:
    """One stable colour per system (tab10, then tab20)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def panel_key(metric: str, unit: str, higher_is_better: bool) -> tuple[int, str]:
    """Which axis a metric goes on, so that values in different units never share one.

    Returns ``(order, axis label)``: error rates, accuracies, MAE per unit, judge scores, others.
    """
    arrow = "↑ higher is better" if higher_is_better else "↓ lower is better"
    if metric in ("wer", "cer", "per"):
        return 0, f"error rate ({arrow})"
    if metric == "judge":
        return 3, f"judge score, 1-5 ({arrow})"
    if metric == "mae":
        return 2, f"MAE, {unit or 'units'} ({arrow})"
    if higher_is_better and (unit == "fraction" or metric in ("acc", "pssl_acc")):
        return 1, f"accuracy ({arrow})"
    return 4, f"{metric}{', ' + unit if unit else ''} ({arrow})"


def _group(cells: Sequence[Cell]) -> list[tuple[str, list[Cell]]]:
    panels: dict[tuple[int, str], list[Cell]] = {}
    for cell in cells:
        panels.setdefault(panel_key(cell.metric, cell.unit, cell.higher_is_better), []).append(cell)
    return [(key[1], members) for key, members in sorted(panels.items())]


def _tick_labels(cells: Sequence[Cell]) -> list[str]:
    """Task id, plus the metric when the task has several cells on the same panel."""
    count: dict[str, int] = {}
    for c in cells:
        count[c.task] = count.get(c.task, 0) + 1
    return [c.task if count[c.task] == 1 else f"{c.task}\n{c.metric}" for c in cells]


def _grouped_bars(ax, labels: Sequence[str], colours: dict[str, Any], values: list[list[float | None]],
                  ticks: Sequence[str], annotate: bool = False, fmt: str = "{:.2f}", top: float | None = None) -> None:
    """``values[i][j]``: item i, system j. Missing values are marked "n/a" on the axis.

    ``top``: the y scale (default: the largest value); the y axis ends a little above it.
    """
    n_sys = len(labels)
    width = 0.8 / n_sys
    if top is None:
        top = max((v for row in values for v in row if v is not None), default=1.0) or 1.0
    for j, label in enumerate(labels):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(values))]
        heights = [row[j] if row[j] is not None else 0.0 for row in values]
        bars = ax.bar(xs, heights, width * 0.92, color=colours[label], label=label)
        for x, row, bar in zip(xs, values, bars):
            if row[j] is None:
                ax.text(x, top * 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="#666666")
            elif annotate:
                ax.text(x, bar.get_height() + top * 0.015, fmt.format(row[j]), rotation=90, ha="center",
                        va="bottom", fontsize=7)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(ticks, fontsize=9)
    ax.set_xlim(-0.6, len(values) - 0.4)
    ax.set_ylim(0, top * (1.22 if annotate else 1.08))
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _figure_width(n_items: int, n_sys: int) -> float:
    return min(16.0, max(7.0, 1.5 + n_items * (0.35 + 0.22 * n_sys)))


LEGEND_COLUMNS = 6
LEGEND_ROW_INCHES = 0.26


def _legend_top(fig, n_handles: int, title_room: float = 0.35) -> float:
    """Figure fraction below the legend rows (and a panel title's room) for the layout's ``top``."""
    rows = math.ceil(n_handles / min(n_handles, LEGEND_COLUMNS))
    return 1 - (rows * LEGEND_ROW_INCHES + 0.1 + title_room) / fig.get_figheight()


def _legend(fig, labels: Sequence[str], colours: dict[str, Any], extra: Sequence[Any] = (),
            title_room: float = 0.35) -> float:
    """A legend across the top of the figure; returns the ``top`` fraction left for the axes."""
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[label], label=label) for label in labels] + list(extra)
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0),
               ncol=min(len(handles), LEGEND_COLUMNS), frameon=False, fontsize=9)
    return _legend_top(fig, len(handles), title_room)


def pack_rows(sizes: Sequence[int], max_row: int = 10) -> list[list[int]]:
    """Arrange panels (by item count) in as few rows as keep each row at most ``max_row`` items.

    Longest-first into the least-filled row; a panel larger than ``max_row`` sets the limit.
    Returns panel indices per row, each row in panel order, rows ordered by their first panel.
    """
    if not sizes:
        return []
    limit = max(max_row, max(sizes))
    for n_rows in range(1, len(sizes) + 1):
        rows: list[list[int]] = [[] for _ in range(n_rows)]
        fill = [0] * n_rows
        for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
            r = min(range(n_rows), key=lambda r: (fill[r], r))
            rows[r].append(i)
            fill[r] += sizes[i]
        if max(fill) <= limit:
            break
    return sorted((sorted(r) for r in rows if r), key=lambda r: r[0])


def plot_task_scores(data: ReportData) -> bytes | None:
    """(a) Per-task grouped bars, one panel per metric family/unit (abstention has its own figure).

    Small panels (e.g. one MAE task) share a row, with widths proportional to their task count.
    """
    cells = [c for c in data.cells if c.metric != "abstention" and any(v is not None for v in c.values.values())]
    if not cells:
        return None
    plt = _plt()
    panels = _group(cells)
    labels = data.labels
    colours = system_colours(labels)
    sizes = [len(m) for _, m in panels]
    rows = pack_rows(sizes)
    capacity = max(sum(sizes[i] for i in row) for row in rows)
    fig = plt.figure(figsize=(_figure_width(capacity, len(labels)), 3.0 * len(rows) + 0.6))
    grid = fig.add_gridspec(len(rows), 1, hspace=0.55)
    for r, row in enumerate(rows):
        ratios = [sizes[i] + 0.8 for i in row]
        spare = capacity + 0.8 * len(row) - sum(ratios)
        sub = grid[r].subgridspec(1, len(row) + (1 if spare > 0.5 else 0), wspace=0.35,
                                  width_ratios=ratios + ([spare] if spare > 0.5 else []))
        for k, i in enumerate(row):
            ylabel, members = panels[i]
            ax = fig.add_subplot(sub[0, k])
            values = [[c.values[label] for label in labels] for c in members]
            _grouped_bars(ax, labels, colours, values, _tick_labels(members))
            name, _, direction = ylabel.rpartition(" (")
            ax.set_title(name, fontsize=10)
            ax.set_ylabel("(" + direction, fontsize=8)
    top = _legend(fig, labels, colours)
    fig.subplots_adjust(top=top, bottom=0.45 / fig.get_figheight(), left=0.07, right=0.98)
    return _png(fig)


def plot_normalised(data: ReportData) -> bytes | None:
    """(b) Radar of per-task normalised scores and a bar of the overall score; needs >= 2 systems."""
    norm = data.normalised
    if norm is None or not norm.cells:
        return None
    plt = _plt()
    labels = data.labels
    colours = system_colours(labels)
    spokes = [t for t in norm.per_task if all(label in norm.per_task[t] for label in labels)]
    has_radar = len(spokes) >= 3
    fig = plt.figure(figsize=(12 if has_radar else 6, max(5.6, 2.5 + 0.3 * len(labels))))
    if has_radar:
        ax = fig.add_subplot(1, 2, 1, projection="polar")
        angles = [2 * math.pi * i / len(spokes) for i in range(len(spokes))]
        fill_alpha = 0.12 if len(labels) <= 3 else 0.04
        for label in labels:
            values = [norm.per_task[t][label] for t in spokes]
            ax.plot(angles + angles[:1], values + values[:1], color=colours[label], linewidth=1.8, marker="o",
                    markersize=4, label=label)
            ax.fill(angles + angles[:1], values + values[:1], color=colours[label], alpha=fill_alpha)
        ax.set_xticks(angles)
        ax.set_xticklabels(spokes, fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_yticks([0.25, 0.5, 0.75, 1.0])
        ax.set_yticklabels(["0.25", "0.5", "0.75", "1"], fontsize=7, color="#555555")
        ax.set_rlabel_position(180 / len(spokes))  # between the first two spokes
        ax.set_title("per-task normalised score (1 = best of compared)", fontsize=10, pad=18)
        bar_ax = fig.add_subplot(1, 2, 2)
    else:
        bar_ax = fig.add_subplot(1, 1, 1)
    overall = [norm.overall[label] for label in labels]
    ys = list(range(len(labels)))[::-1]  # first system on top
    bars = bar_ax.barh(ys, [v or 0.0 for v in overall], 0.6, color=[colours[label] for label in labels])
    for bar, value, label in zip(bars, overall, labels):
        n = norm.n_cells[label]
        text = "n/a" if value is None else f"{value:.2f}  ({n} cell{'s' if n != 1 else ''})"
        bar_ax.text(bar.get_width() + 0.02, bar.get_y() + bar.get_height() / 2, text, ha="left", va="center",
                    fontsize=9)
    bar_ax.set_yticks(ys)
    bar_ax.set_yticklabels(labels, fontsize=9)
    bar_ax.set_xlim(0, 1.35)
    bar_ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    bar_ax.set_xlabel("overall normalised score (mean over cells, ↑)", fontsize=9)
    bar_ax.set_title("overall score", fontsize=10)
    bar_ax.grid(axis="x", alpha=0.3)
    bar_ax.set_axisbelow(True)
    for side in ("top", "right"):
        bar_ax.spines[side].set_visible(False)
    top = _legend(fig, labels, colours, title_room=0.1)
    fig.tight_layout(rect=(0, 0, 1, top), w_pad=3)
    return _png(fig)


def plot_abstention(data: ReportData) -> bytes | None:
    """(c) Abstention rate per closed-set task per system."""
    cells = [c for c in data.abstention if any(v is not None for v in c.values.values())]
    if not cells:
        return None
    plt = _plt()
    labels = data.labels
    colours = system_colours(labels)
    fig, ax = plt.subplots(figsize=(_figure_width(len(cells), len(labels)), 3.8))
    values = [[c.values[label] for label in labels] for c in cells]
    # Values are printed on the bars (so that 0 is told apart from n/a) while that stays legible.
    top = max(0.1, max((v for row in values for v in row if v is not None), default=0.0))
    _grouped_bars(ax, labels, colours, values, [c.task for c in cells], annotate=len(labels) <= 4, top=top)
    ax.set_ylabel("abstention rate (↓ lower is better)", fontsize=9)
    ax.set_title("closed-set answers naming no label or several labels", fontsize=10)
    top = _legend(fig, labels, colours, title_room=0.1)
    fig.tight_layout(rect=(0, 0, 1, top))
    return _png(fig)


def plot_stability(data: ReportData) -> bytes | None:
    """(d) Cross-modality stability |TA-PA| + |TA-AT| per task (stacked terms), lower = more stable."""
    if not data.stability:
        return None
    from matplotlib.patches import Patch

    plt = _plt()
    labels = data.labels
    colours = system_colours(labels)
    by_task: dict[str, dict[str, StabilityEntry]] = {}
    for e in data.stability:
        by_task.setdefault(e.task, {})[e.label] = e
    panels: dict[tuple[int, str], list[str]] = {}
    for task, entries in by_task.items():
        e = next(iter(entries.values()))
        order, axis_label = panel_key(e.metric, e.unit, e.higher_is_better)
        panels.setdefault((order, axis_label.rsplit(" (", 1)[0]), []).append(task)
    ordered = sorted(panels.items())
    fig, axes = plt.subplots(1, len(ordered), figsize=(min(16, max(7, 2.2 + sum(
        1.2 + len(t) * 0.3 * len(labels) for _, t in ordered))), 4.2), squeeze=False,
        gridspec_kw={"width_ratios": [len(t) + 0.6 for _, t in ordered]})
    width = 0.8 / len(labels)
    for ax, ((_, metric_label), tasks) in zip(axes[0], ordered):
        top = max(e.value for t in tasks for e in by_task[t].values()) or 1.0
        for j, label in enumerate(labels):
            for i, task in enumerate(tasks):
                x = i - 0.4 + width * (j + 0.5)
                e = by_task[task].get(label)
                if e is None:
                    ax.text(x, top * 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="#666666")
                    continue
                pa, at = e.terms.get("pa", 0.0), e.terms.get("at", 0.0)
                ax.bar(x, pa, width * 0.92, color=colours[label])
                ax.bar(x, at, width * 0.92, bottom=pa, color=colours[label], alpha=0.45, hatch="//",
                       edgecolor="white", linewidth=0)
        ax.set_xticks(range(len(tasks)))
        ax.set_xticklabels(tasks, fontsize=9)
        ax.set_xlim(-0.6, len(tasks) - 0.4)
        ax.set_ylim(0, top * 1.1)
        ax.set_title(metric_label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0][0].set_ylabel("|TA-PA| + |TA-AT|  (↓ more stable)", fontsize=9)
    extra = [Patch(facecolor="#999999", label="|TA-PA|"),
             Patch(facecolor="#999999", alpha=0.45, hatch="//", edgecolor="white", label="|TA-AT|")]
    top = _legend(fig, labels, colours, extra, title_room=0.1)
    fig.tight_layout(rect=(0, 0, 1, top))
    return _png(fig)


def plot_categories(data: ReportData) -> bytes | None:
    """(e) Paralinguistic content- vs speaker-centric means per system (normalised and accuracy)."""
    bases = [(b, scores) for b, scores in data.categories.items()
             if any(s.content is not None or s.speaker is not None for s in scores.values())]
    if not bases:
        return None
    plt = _plt()
    labels = data.labels
    panel_width = min(15.0, max(4.5, 1.5 + 1.2 * len(labels)))
    stacked = len(labels) > 4 and len(bases) > 1  # many systems: panels one above the other
    fig, axes = plt.subplots(len(bases) if stacked else 1, 1 if stacked else len(bases), squeeze=False,
                             figsize=(panel_width + 0.5, 3.9 * len(bases) + 0.4) if stacked
                             else (panel_width * len(bases) + 0.5, 4.3))
    axes = axes.reshape(1, -1)
    titles = {"normalised": "mean normalised score (1 = best of compared)",
              "accuracy": "mean of accuracy-type metrics"}
    for ax, (basis, scores) in zip(axes[0], bases):
        for k, (cat, name) in enumerate(((CONTENT, "content-centric (PC)"), (SPEAKER, "speaker-centric (PS)"))):
            xs = [i - 0.2 + 0.4 * k for i in range(len(labels))]
            vals = [getattr(scores[label], "content" if cat == CONTENT else "speaker") for label in labels]
            bars = ax.bar(xs, [v or 0.0 for v in vals], 0.38, color=CATEGORY_COLOURS[cat], label=name)
            for bar, v in zip(bars, vals):
                ax.text(bar.get_x() + bar.get_width() / 2, (v or 0.0) + 0.02, "n/a" if v is None else f"{v:.2f}",
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=9, rotation=20 if len(labels) > 3 else 0,
                           ha="right" if len(labels) > 3 else "center")
        pad = max(0.0, (3 - len(labels)) * 0.5)  # keep bars narrow when few systems are compared
        ax.set_xlim(-0.6 - pad, len(labels) - 0.4 + pad)
        ax.set_ylim(0, 1.15)
        ax.set_title(titles.get(basis, basis), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[0] if stacked else axes[0][:1]:
        ax.set_ylabel("score (↑ higher is better)", fontsize=9)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=2, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, _legend_top(fig, 2, title_room=0.1)), w_pad=3, h_pad=1.5)
    return _png(fig)


@attrs.frozen
class FigureSpec:
    name: str
    title: str
    plot: Callable[[ReportData], bytes | None]
    caption: Callable[[ReportData], str]
    skipped: Callable[[ReportData], str]


def _norm_caption(d: ReportData) -> str:
    norm = d.normalised
    spokes = [t for t in norm.per_task if all(label in norm.per_task[t] for label in d.labels)] if norm else []
    left_out = [t for t in (norm.per_task if norm else {}) if t not in spokes]
    text = ("Left: per-task normalised score (mean of the task's normalised cells), on the tasks normalised for "
            "every system" + (f" (left out: {', '.join(left_out)})" if left_out else "") + "; the radar is drawn "
            "with three or more such tasks. Right: overall normalised score per system. ")
    if len(d.systems) == 2:
        text += "With two systems every cell normalises to 0 (worse) or 1 (better). "
    return text + "Recipe: " + d.recipe


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("task_scores", "Scores per task",
               plot_task_scores,
               lambda d: "Per-task values of every metric except abstention, one panel per metric family "
                         "(error rates, accuracies, MAE per unit, judge scores) so that different scales never "
                         "share an axis. n/a: the system has no value for that cell.",
               lambda d: "no task has a value"),
    FigureSpec("normalised_overall", "Normalised scores (paper Fig. 1 recipe)",
               plot_normalised, _norm_caption,
               lambda d: ("min-max normalisation needs at least two systems; only one was given"
                          if len(d.systems) < 2 else "no cell has values from two differing systems")),
    FigureSpec("abstention", "Abstention rate per closed-set task",
               plot_abstention,
               lambda d: "Share of closed-set answers that name no label or several labels (lower is better).",
               lambda d: "no closed-set task reports abstention"),
    FigureSpec("modality_stability", "Cross-modality stability (paper Fig. 8)",
               plot_stability,
               lambda d: "|TA-PA| + |TA-AT| on each task's primary metric (its first metric), per system, for tasks "
                         "with a text-instruction-with-audio (TA) value and at least one of PA/AT. Solid: |TA-PA|; "
                         "hatched: |TA-AT|. Lower is more stable. Panels are per metric, as units differ.",
               lambda d: "no task has a TA value and a PA or AT value"),
    FigureSpec("category_comparison", "Content- vs speaker-centric tasks (paper Fig. 7)",
               plot_categories,
               lambda d: "Per system, mean over the paralinguistic-content (PC) and paralinguistic-speaker (PS) "
                         "cells. " + ("Left: mean normalised score; right: mean of accuracy-type metrics "
                                      "(higher-is-better fractions)." if "normalised" in d.categories else
                                      "Mean of accuracy-type metrics (higher-is-better fractions); the normalised "
                                      "comparison needs at least two systems."),
               lambda d: "no paralinguistic task has a value"),
)


def render_figures(data: ReportData, fig_dir: Path) -> tuple[list[FigureInfo], list[str]]:
    """Write every figure that has data to ``fig_dir/<name>.png``.

    Returns the figures and, for each one skipped, a note saying why.
    """
    fig_dir = Path(fig_dir)
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures, notes = [], []
    for spec in FIGURES:
        png = spec.plot(data)
        if png is None:
            notes.append(f"{spec.title}: skipped ({spec.skipped(data)}).")
            continue
        path = fig_dir / f"{spec.name}.png"
        path.write_bytes(png)
        figures.append(FigureInfo(name=spec.name, title=spec.title, caption=spec.caption(data), path=path, png=png))
    return figures, notes
