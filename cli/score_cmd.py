"""``llaso score``: score prediction files without any model."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from llaso_cli.output import console, err_console, fail, writable_folder
from llaso_cli.judge_options import with_judge_options
from llaso_core.evaluation.judging import JudgeOptions
from llaso_core.evaluation.predictions import PredictionFileError
from llaso_core.evaluation.results import write_results
from llaso_core.evaluation.score import ScoreRun, score
from llaso_core.loader import get_host
from llaso_core.metrics.base import Protocol

INCOMPLETE_EXIT = 3  # results written, but something was left out (named in the output)


@with_judge_options(default_backend="openai")
def score_command(
    predictions: List[Path] = typer.Argument(..., help="Prediction files (.json/.jsonl) or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for results.json, results.csv, samples.jsonl."),
    protocol: Protocol = typer.Option(Protocol.STRICT, "--protocol", help="paper: reproduce the released "
                                      "scripts, quirks included; strict: the corrected rules."),
    format: str = typer.Option("auto", "--format", help="llaso-release, llaso, or auto (detect)."),
    name: Optional[str] = typer.Option(None, "--name", help="System name [default: the first input's folder]."),
    *,
    judge: JudgeOptions,
) -> None:
    """Score prediction files: map each file to its task through the task plugins, extract answers,
    judge open answers, and write results.json, results.csv and samples.jsonl. Exit status 3: the
    results were written but a file, record or judge verdict was left out (listed as warnings and in
    results.json ``unknown_files``/``problems``)."""
    if format not in ("auto", "llaso-release", "llaso"):
        fail(f"unknown --format {format!r}; use llaso-release, llaso or auto")
    writable_folder(out)
    host = get_host()
    with Progress(TextColumn("[bold]scoring[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task_id = bar.add_task("", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task_id, description=what, completed=done, total=total)

        try:
            run = score(predictions, host, protocol=protocol, judge=judge, format=format,  # type: ignore[arg-type]
                        progress=progress)
        except PredictionFileError as exc:
            fail(str(exc))
    first = predictions[0].resolve()
    system = name or (first.name if first.is_dir() else first.parent.name)
    write_results(run, out, system=system, inputs=[str(p) for p in predictions])
    _print_summary(run, system)
    console.print(f"wrote {out / 'results.json'}, results.csv, samples.jsonl")
    exit_if_incomplete(run)


def exit_if_incomplete(run: ScoreRun) -> None:
    """Exit with `INCOMPLETE_EXIT` when something was left out of ``run`` (after writing)."""
    if not run.complete:
        left = len(run.unknown_files) + run.left_out
        err_console.print(f"[yellow]incomplete:[/] {left} file(s), record(s) or verdict(s) left out "
                          f"(see the warnings above); exit status {INCOMPLETE_EXIT}", highlight=False)
        raise typer.Exit(INCOMPLETE_EXIT)


def _print_summary(run: ScoreRun, system: str) -> None:
    table = Table(title=f"{system} — protocol {run.protocol.value}")
    for column in ("file", "task", "mod", "metric", "value", "n", "invalid"):
        table.add_column(column, justify="right" if column in ("value", "n", "invalid") else "left")
    for s in run.sets:
        for metric, m in s.metrics.items():
            value = "-" if m.value is None else f"{m.value:.4f}"
            table.add_row(s.pset.name, s.task.id, s.modality, metric, value, str(m.n_used), str(m.n_invalid))
    console.print(table)
    for item in run.unknown_files:
        err_console.print(f"[yellow]not scored:[/] {item['path']}: {item['reason']}", highlight=False)
    for problem in run.problems:
        err_console.print(f"[yellow]warning:[/] {problem}", highlight=False)
