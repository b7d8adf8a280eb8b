"""``llaso report``: compare scored systems in a Markdown + self-contained HTML report with figures."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from rich.markup import escape

from llaso_cli.output import console, fail
from llaso_core.reports.data import DEFAULT_TITLE
from llaso_core.reports.load import ResultsError, load_systems


def report(
    results: list[Path] = typer.Argument(
        ..., metavar="RESULTS", show_default=False,
        help="One or more results.json files written by `llaso score` (one per system)."),
    out: Path = typer.Option(
        ..., "--out", "-o", show_default=False,
        help="Output folder; report.md, report.html and figures/*.png are written there (created if needed)."),
    title: str = typer.Option(DEFAULT_TITLE, "--title", "-t", help="Title of the report."),
) -> None:
    """Compare scored systems: tables per task, normalised overall score, figures, Markdown and HTML.

    The HTML is self-contained; the normalised score needs two or more systems; mixed protocols are flagged.
    """
    try:
        systems = load_systems(results)
    except ResultsError as exc:
        fail(str(exc))
    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder")

    from llaso_core.reports.build import write_report  # the heavy part (matplotlib) only now

    try:
        output = write_report(systems, out, title)
    except OSError as exc:
        fail(f"cannot write the report to {out}: {exc}")

    data = output.data
    table = Table(title=data.title)
    for column in ("system", "protocol", "judge", "overall normalised score"):
        table.add_column(column, justify="right" if column.startswith("overall") else "left")
    for s in data.systems:
        overall = data.normalised.overall.get(s.label) if data.normalised else None
        score = ("n/a (needs ≥2 systems)" if data.normalised is None
                 else "n/a" if overall is None else f"{overall:.2f} ({data.normalised.n_cells[s.label]} cells)")
        table.add_row(escape(s.label), escape(s.protocol), escape(s.judge.get("model") or "none"), score)
    console.print(table)
    for warning in data.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    for note in output.notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    console.print(f"wrote {escape(str(output.markdown))}", highlight=False)
    console.print(f"wrote {escape(str(output.html))}", highlight=False)
    console.print(f"wrote {len(output.figures)} figures in {escape(str(out / 'figures'))}", highlight=False)
