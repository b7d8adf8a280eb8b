"""Everything a report shows, computed once from the loaded results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import attrs

from .aggregate import (
    DIAGNOSTIC_METRICS,
    Cell,
    CategoryScore,
    Normalised,
    StabilityEntry,
    abstention_table,
    category_comparison,
    collect_cells,
    judge_warning,
    normalised_scores,
    protocol_warning,
    recipe_text,
    stability_table,
)
from .load import SystemResults

DEFAULT_TITLE = "LLaSO evaluation report"


@attrs.frozen
class ReportData:
    title: str
    systems: list[SystemResults]
    cells: list[Cell]
    normalised: Normalised | None
    abstention: list[Cell]
    stability: list[StabilityEntry]
    categories: dict[str, dict[str, CategoryScore]]
    warnings: list[str]
    recipe: str
    created: str

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.systems]

    @property
    def protocols(self) -> list[str]:
        return sorted({s.protocol for s in self.systems})


def build_report_data(systems: Sequence[SystemResults], title: str = DEFAULT_TITLE,
                      exclude_metrics: Sequence[str] = DIAGNOSTIC_METRICS) -> ReportData:
    """Aggregate the loaded results: cells, normalised scores, abstention, stability, categories."""
    if not systems:
        raise ValueError("a report needs at least one results file")
    systems = list(systems)
    labels = [s.label for s in systems]
    cells = collect_cells(systems)
    normalised = normalised_scores(cells, labels, exclude_metrics)
    warnings = [w for w in (protocol_warning(systems), judge_warning(systems)) if w]
    return ReportData(
        title=title, systems=systems, cells=cells, normalised=normalised,
        abstention=abstention_table(cells), stability=stability_table(systems),
        categories=category_comparison(cells, labels, normalised), warnings=warnings,
        recipe=recipe_text(exclude_metrics),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
