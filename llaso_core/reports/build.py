"""Write a report: ``report.md``, ``report.html`` and ``figures/*.png`` in one folder."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from .aggregate import DIAGNOSTIC_METRICS
from .data import DEFAULT_TITLE, ReportData, build_report_data
from .document import build_document
from .figures import FigureInfo, render_figures
from .html import write_html
from .load import SystemResults, load_systems
from .markdown import write_markdown


@attrs.frozen
class ReportOutput:
    data: ReportData
    markdown: Path
    html: Path
    figures: list[FigureInfo]
    notes: list[str]

    @property
    def paths(self) -> list[Path]:
        return [self.markdown, self.html, *(f.path for f in self.figures)]


def write_report(systems: Sequence[SystemResults], out_dir: str | Path, title: str = DEFAULT_TITLE,
                 exclude_metrics: Sequence[str] = DIAGNOSTIC_METRICS) -> ReportOutput:
    """Aggregate ``systems`` and write the Markdown, HTML and PNG figures under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build_report_data(systems, title, exclude_metrics)
    figures, notes = render_figures(data, out_dir / "figures")
    blocks = build_document(data, figures, notes)
    md = write_markdown(blocks, out_dir / "report.md")
    html = write_html(blocks, out_dir / "report.html", title)
    return ReportOutput(data=data, markdown=md, html=html, figures=figures, notes=notes)


def report_from_files(paths: Iterable[str | Path], out_dir: str | Path, title: str = DEFAULT_TITLE) -> ReportOutput:
    """Load results files (raising :class:`~llaso_core.reports.load.ResultsError`) and write the report."""
    return write_report(load_systems(paths), out_dir, title)
