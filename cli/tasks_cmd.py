"""``llaso tasks list`` and ``llaso tasks show``."""

from __future__ import annotations

from typing import Optional

import typer
from rich.panel import Panel
from rich.table import Table

from llaso_cli.output import JSON_OPTION, console, fail, print_json
from llaso_core.chat import LLASO_CHAT
from llaso_core.loader import get_host
from llaso_core.prompts import example_query
from llaso_core.registry import UnknownNameError
from llaso_core.specs import Category, TaskSpec

app = typer.Typer(help="Inspect the registered tasks.", no_args_is_help=True)


def _category(value: str) -> Category:
    for c in Category:
        if value.lower() in (c.value, c.short.lower()):
            return c
    fail(f"unknown category {value!r}; use one of " + ", ".join(f"{c.short} ({c.value})" for c in Category))


def task_summary(task: TaskSpec, origin: str) -> dict:
    return {
        "id": task.id, "name": task.name, "category": task.category.value,
        "modalities": list(task.modalities), "sources": list(task.stems),
        "label_sets": [{"name": ls.name, "kind": ls.kind, "labels": list(ls.labels),
                        "value_range": ls.value_range} for ls in task.label_sets],
        "extractor": task.extractor, "metrics": list(task.metrics), "templates": len(task.templates.templates),
        "eval_templates": sorted(task.templates.eval_ids), "plugin": origin,
    }


@app.command("list")
def list_tasks(
    category: Optional[str] = typer.Option(None, "--category", "-c", help="L, S, PS, PC or the full name."),
    modality: Optional[str] = typer.Option(None, "--modality", "-m", help="Only tasks offered in this modality."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List tasks with their category, modalities, label kind and metrics."""
    host = get_host()
    wanted = _category(category) if category else None
    if modality and modality not in host.modalities:
        try:
            host.modalities.get(modality)  # raises, with a did-you-mean
        except UnknownNameError as exc:
            fail(str(exc))
    entries = [e for e in host.tasks.entries()
               if (wanted is None or e.spec.category == wanted)
               and (modality is None or modality.lower() in e.spec.modalities)]
    if as_json:
        print_json([task_summary(e.spec, e.origin) for e in entries])
        return
    table = Table(title=f"{len(entries)} tasks")
    for column in ("id", "name", "cat", "modalities", "labels", "metrics", "plugin"):
        table.add_column(column)
    for e in entries:
        t = e.spec
        labels = "/".join(sorted({ls.kind for ls in t.label_sets}))
        metrics = ", ".join(dict.fromkeys(m for s in t.sources for m in t.metrics_for(s)))
        table.add_row(t.id, t.name, t.category.short, ",".join(t.modalities), labels, metrics, e.origin)
    console.print(table)


@app.command("show")
def show_task(task_id: str = typer.Argument(..., help="Task id, e.g. ASR or SGC."),
              as_json: bool = JSON_OPTION) -> None:
    """Show a task's spec, its label sets, and an example prompt per modality."""
    host = get_host()
    try:
        entry = host.tasks.entry(task_id)
    except UnknownNameError as exc:
        fail(str(exc))
    task = entry.spec
    queries = {m: example_query(task, host.modalities.get(m)) for m in task.modalities}
    examples = {m: LLASO_CHAT.render(q).prompt for m, q in queries.items()}
    if as_json:
        print_json({**task_summary(task, entry.origin), "examples": examples})
        return
    console.print(f"[bold]{task.id}[/] — {task.name}  ({task.category.value}, plugin {entry.origin})")
    sources = Table(title="sources")
    for column in ("stem", "modalities", "label set", "metrics", "extractor"):
        sources.add_column(column)
    for s in task.sources:
        sources.add_row(s.stem, ",".join(s.modalities), s.label_set or task.label_sets[0].name,
                        ", ".join(task.metrics_for(s)), task.extractor_for(s))
    console.print(sources)
    for ls in task.label_sets:
        console.print(f"labels [bold]{ls.name}[/] ({ls.kind}): {ls.describe()}", highlight=False)
    console.print(f"templates: {len(task.templates.templates)} "
                  f"({len(task.templates.eval_ids)} held out for evaluation)")
    for modality, prompt in examples.items():
        spoken = [f"{a.path} says: {a.transcript!r}" for a in queries[modality].audio if a.transcript]
        console.print(Panel(prompt, title=f"example prompt, {modality}", subtitle="; ".join(spoken) or None,
                            expand=False), highlight=False)
