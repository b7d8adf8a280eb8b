"""``llaso data``: inspect, synthesise, convert and build datasets."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from llaso_core.data import MINICORPUS_PER_TASK
from llaso_cli.output import JSON_OPTION, console, err_console, fail, print_json, writable_folder

app = typer.Typer(help="Inspect, synthesise, convert and build datasets.", no_args_is_help=True)


def _bar() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True)


@app.command("inspect")
def inspect_command(path: Path = typer.Argument(..., help="A unified .jsonl, a folder with train/eval.jsonl, "
                                                "or a LLaSO release folder."),
                    check_audio: bool = typer.Option(True, "--check-audio/--no-check-audio",
                                                     help="Read every audio header (durations, problems)."),
                    as_json: bool = JSON_OPTION) -> None:
    """Counts per task/modality/source/split, durations, label distribution, and problems found:
    malformed records and unreadable files (the rest is still counted), and unusable audio."""
    from llaso_core.data.inspect import inspect_samples, open_dataset

    try:
        dataset = open_dataset(path)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    with _bar() as bar:
        task = bar.add_task("checking audio", total=None)
        report = inspect_samples(dataset.samples, dataset.root, check_audio=check_audio,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    report["unmapped_files"] = unknown = dataset.unmapped
    report["bad_records"] = [s.to_dict() for s in dataset.skipped]
    report["repaired_files"] = dataset.repaired
    if as_json:
        print_json(report)
        return
    console.print(f"[bold]{path}[/]: {report['samples']} samples")
    for key in ("by_task", "by_modality", "by_split", "by_source"):
        table = Table(title=key.replace("_", " "))
        table.add_column(key.removeprefix("by_"))
        table.add_column("samples", justify="right")
        for name, count in report[key].items():
            table.add_row(str(name), str(count))
        console.print(table)
    for task_id, dist in report["labels"].items():
        console.print(f"labels {task_id}: " + ", ".join(f"{k} {v}" for k, v in dist.items()), highlight=False)
    if "durations" in report:
        console.print("durations: " + ", ".join(f"{k} {v}" for k, v in report["durations"].items()))
        audio = report["audio"]
        console.print(f"audio: {audio['loaded']} readable, {audio['problem_total']} problem(s)")
        for problem in audio["problems"]:
            err_console.print(f"[yellow]{problem['kind']}:[/] {problem['path']} (sample {problem['sample_id']}) "
                              f"{problem['detail']}", highlight=False)
    for kind, key in (("task", "unregistered_tasks"), ("modality", "unregistered_modalities")):
        for name, count in report[key].items():
            err_console.print(f"[yellow]unregistered {kind}:[/] {name}: {count} sample(s); no plugin registers it, "
                              "so train and eval leave them out", highlight=False)
    for item in report["unreadable_listed"]:
        err_console.print(f"[yellow]not a label:[/] sample {item['sample_id']} ({item['task']}, set "
                          f"{item['label_set']}): {escape(repr(item['target']))} names no label of the set",
                          highlight=False)
    if report["unreadable_targets"] > len(report["unreadable_listed"]):
        err_console.print(f"[yellow]not a label:[/] {report['unreadable_targets']} sample(s) in all (the first "
                          f"{len(report['unreadable_listed'])} listed)", highlight=False)
    for item in unknown:
        err_console.print(f"[yellow]not mapped:[/] {item['path']}: {item['reason']}", highlight=False)
    for skipped in dataset.skipped:
        err_console.print(f"[yellow]bad record:[/] {escape(skipped.message)}", highlight=False)
    for note in dataset.repaired:
        err_console.print(f"[yellow]repaired:[/] {escape(note)}", highlight=False)


@app.command("synth")
def synth_command(out: Path = typer.Option(..., "--out", "-o", help="Folder for the corpus."),
                  per_task: int = typer.Option(MINICORPUS_PER_TASK, "--per-task", min=4,
                                               help="Samples per task (train + eval)."),
                  seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same corpus)."),
                  workers: int = typer.Option(2, "--workers", min=1, help="Processes."),
                  tasks: str = typer.Option("all", "--tasks", help="Comma-separated task ids, or 'all'.")) -> None:
    """Synthesise the offline mini-corpus: every task with a recipe (the 20 built-in ones and any a
    plugin registers), in every modality it has, real audio from espeak-ng and synthetic notes,
    labels exact by construction. Cached: a second call is instant."""
    from llaso_core.data.synth.corpus import RecipeError, synthesize_corpus
    from llaso_core.registry import UnknownNameError

    writable_folder(out)
    with _bar() as bar:
        task = bar.add_task("synthesising", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=f"synthesising {what}", completed=done, total=total)

        try:
            manifest = synthesize_corpus(out, per_task=per_task, seed=seed, workers=workers, progress=progress,
                                         tasks=None if tasks == "all" else tasks.split(","))
        except (RecipeError, UnknownNameError, FileExistsError) as exc:
            fail(str(exc))
    console.print(f"mini-corpus in {out}: " + ", ".join(f"{k} {v}" for k, v in manifest["counts"]["split"].items()))
    if manifest["skipped_tasks"]:
        err_console.print(f"[yellow]no recipe, left out:[/] {', '.join(manifest['skipped_tasks'])}", highlight=False)


@app.command("convert")
def convert_command(source: Path = typer.Argument(..., help="A dataset (unified .jsonl / folder, or LLaSO release)."),
                    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
                    to: str = typer.Option("llaso", "--to", help="llaso (release JSON layout), unified (jsonl), or "
                                           "hf (a datasets save_to_disk folder with an Audio column)."),
                    by_modality: bool = typer.Option(False, "--by-modality",
                                                     help="LLaSO layout in text_audio/audio_text/pure_audio folders.")
                    ) -> None:
    """Convert between the unified sample format, the LLaSO JSON layout (audio paths stay relative
    to the source folder) and a Hugging Face dataset (the clips' bytes in an Audio column; one split
    per sample split; columns in docs/plugins.md)."""
    from llaso_core.data.hf import HFDataError, save_hf
    from llaso_core.data.inspect import open_dataset
    from llaso_core.data.store import to_llaso_files, write_samples

    if to not in ("llaso", "unified", "hf"):
        fail(f"unknown --to {to!r}; use llaso, unified or hf")
    writable_folder(out)
    try:
        dataset = open_dataset(source)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    samples = dataset.samples
    if to == "llaso":
        to_llaso_files(samples, out, by_modality=by_modality)
    elif to == "hf":
        try:
            save_hf(samples, dataset.root, out)
        except HFDataError as exc:
            fail(str(exc))
    else:
        out.mkdir(parents=True, exist_ok=True)
        for split in ("train", "eval"):
            write_samples(out / f"{split}.jsonl", [s for s in samples if s.split == split])
    console.print(f"converted {len(samples)} samples to {to} in {out}")
    for item in dataset.unmapped:
        err_console.print(f"[yellow]not converted:[/] {item['path']}: {item['reason']}", highlight=False)
    for skipped in dataset.skipped:
        err_console.print(f"[yellow]not converted:[/] {escape(skipped.message)}", highlight=False)
    for note in dataset.repaired:
        err_console.print(f"[yellow]repaired:[/] {escape(note)}", highlight=False)


@app.command("adapters")
def adapters_command(as_json: bool = JSON_OPTION) -> None:
    """List the raw-corpus adapters `llaso data build` can use: tasks, default stems, options, plugin."""
    from llaso_core.loader import get_host

    rows = [{"id": e.id, "plugin": e.origin, "tasks": list(e.spec.tasks) if e.spec.tasks is not None else None,
             "sources": dict(e.spec.sources), "options": list(e.spec.options), "description": e.spec.description}
            for e in get_host().adapters.entries()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="adapters of llaso data build")
    for column in ("adapter", "tasks", "options", "plugin", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], ", ".join(row["tasks"]) if row["tasks"] is not None else "any",
                      ", ".join(row["options"]) or "-", row["plugin"], row["description"] or "-")
    console.print(table)


@app.command("build")
def build_command(spec: Path = typer.Argument(..., help="A build spec (.json or .toml): inputs with their adapters "
                                              "(built in: llaso-release, librispeech, nsynth, vocalsound, crema-d, "
                                              "text-qa; plugins add more: `llaso data adapters`), "
                                              "seed, eval fraction, modalities, caps, audio and TTS settings."),
                  out: Path = typer.Option(..., "--out", "-o", help="Output folder.")) -> None:
    """Build a training/evaluation mix the LLaSO way: standardised audio, seeded templates (held-out ones
    for eval), the modality variants each task supports, a split disjoint by source item, a manifest."""
    from llaso_core.data.build import BuildError, BuildSpec, build_corpus

    try:
        build_spec = BuildSpec.from_file(spec)
    except (BuildError, OSError, ValueError) as exc:
        fail(str(exc) if str(spec) in str(exc) else f"{spec}: {exc}")
    writable_folder(out)
    with _bar() as bar:
        task = bar.add_task("building", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        try:
            manifest = build_corpus(build_spec, out, progress=progress)
        except BuildError as exc:
            fail(str(exc))
    counts = manifest["counts"]
    console.print(f"built {out}: {counts['samples']} samples ("
                  + ", ".join(f"{k} {v}" for k, v in counts["by_split"].items()) + ")")
    for problem in manifest["audio_problems"]:
        err_console.print(f"[yellow]skipped {problem['kind']}:[/] {problem['path']} (sample {problem['sample_id']}) "
                          f"{problem['detail']}", highlight=False)
