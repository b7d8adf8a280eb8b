"""``llaso eval`` and ``llaso infer``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from llaso_cli.judge_options import with_judge_options
from llaso_cli.output import console, err_console, existing_data, fail, writable_folder
from llaso_cli.score_cmd import _print_summary, exit_if_incomplete
from llaso_core.evaluation.judging import JudgeOptions
from llaso_core.metrics.base import Protocol

T = TypeVar("T")


MODEL_HELP = ("A checkpoint folder written by llaso train or llaso convert, or KIND:REFERENCE: "
              "llaso-release:PATH_OR_HUB_ID, hf:PATH_OR_HUB_ID, openai:MODEL@BASE_URL (see llaso models).")

OPTION_HELP = ("KEY=VALUE passed to the model plugin (repeatable; VALUE read as JSON when it parses), e.g. "
               "-O concurrency=4 -O device=cuda:1 -O max_new_tokens=null.")


def model_options(pairs: list[str] | None) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``; a pair without ``=`` is a clear error."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--model-option {pair!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


@with_judge_options(default_backend="none")
def eval_command(
    model: str = typer.Option(..., "--model", "-m", help=MODEL_HELP),
    model_option: Optional[list[str]] = typer.Option(None, "--model-option", "-O", help=OPTION_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for predictions, results and the report."),
    tasks: str = typer.Option("all", "--tasks", help="Comma-separated task ids, or 'all'."),
    modalities: str = typer.Option("ta,at,pa", "--modalities", help="Comma-separated modalities."),
    data: Optional[Path] = typer.Option(None, "--data", help="Evaluation set: LLaSO-Eval folder, unified "
                                        "jsonl folder, or hf:NAME_OR_PATH[@SPLIT]?task=ID. Default: the "
                                        "mini-corpus eval split."),
    split: str = typer.Option("eval", "--split", help="Which split of a unified dataset to evaluate."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Queries per generation batch."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most N samples per task and modality "
                                        "(quick checks)."),
    protocol: Protocol = typer.Option(Protocol.STRICT, "--protocol", help="paper or strict scoring rules."),
    bad_records: str = typer.Option("skip", "--bad-records", help="Malformed data records: skip (named in the "
                                    "results' problems and left out) or fail (stop at the first)."),
    long_audio: str = typer.Option("truncate", "--long-audio", help="Clips over 30 s: truncate (cut to the first "
                                   "30 s, noted per sample) or skip (no prediction, named as too_long)."),
    export: Optional[Path] = typer.Option(None, "--export", help="Also write the predictions as LLaSO-layout "
                                          "<stem>_test.json files here (what `llaso score` reads)."),
    name: Optional[str] = typer.Option(None, "--name", help="System name in results and report."),
    *,
    judge: JudgeOptions,
) -> None:
    """Evaluate a model (any model plugin): batched generation (resumable: re-run the same command after a crash),
    then extraction, judging and scoring as `llaso score`, and the report."""
    from llaso_core.data.audio import AudioPolicy
    from llaso_core.data.load import DataError, load_data
    from llaso_core.evaluation.evaluate import (
        annotate_results,
        export_predictions,
        generate_predictions,
        input_problems,
        merge_shards,
        split_by_modality,
        unanswered,
        wait_for_ranks,
    )
    from llaso_core.evaluation.records import LEFT_OUT
    from llaso_core.evaluation.results import write_results
    from llaso_core.evaluation.score import score
    from llaso_core.loader import get_host
    from llaso_core.models import GenerationOptions, ModelSpecError, describe, load_model, parse_model_spec
    from llaso_core.registry import UnknownNameError
    from llaso_core.reports import report_from_files

    if bad_records not in ("skip", "fail") or long_audio not in ("truncate", "skip"):
        fail(f"unknown --bad-records {bad_records!r} or --long-audio {long_audio!r}; use skip/fail and truncate/skip")
    if data is not None:
        existing_data(str(data))
    writable_folder(out)
    host = get_host()
    try:
        model_ref = parse_model_spec(model, host)  # a misspelt --model fails before any data work
        skipped: list = []
        repaired: list[str] = []
        samples = load_data(data, split=split, tasks=tasks.split(","), modalities=modalities.split(","), host=host,
                            announce=lambda m: err_console.print(m, highlight=False),
                            on_error="raise" if bad_records == "fail" else "skip", skipped=skipped,
                            repaired=repaired)
        root = samples.root
    except (DataError, UnknownNameError, ModelSpecError, FileNotFoundError, ValueError, OSError, TypeError) as exc:
        fail(str(exc))
    speech_model = loaded(model, lambda: load_model(model_ref, host, **model_options(model_option)))
    if limit:
        samples = first_per_group(samples, limit)
    samples, not_evaluated = split_by_modality(samples, speech_model)
    for modality, count in sorted(not_evaluated.items()):
        err_console.print(f"[yellow]{modality}: not evaluated ({count} samples): {speech_model.spec} takes only "
                          f"{', '.join(speech_model.modalities)}[/]")
    if not samples:
        fail("no evaluation samples for these tasks and modalities")
    options = GenerationOptions(batch_size=batch_size)
    model_facts = describe(speech_model, host, options)
    with Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err_console) as bar:
        task = bar.add_task("", total=len(samples))
        try:
            path, _ = generate_predictions(
                speech_model, samples, root, out, host, options=options,
                audio_policy=AudioPolicy(on_long=long_audio),
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        finally:
            speech_model.close()
    if not wait_for_ranks():
        return  # rank 0 merges the shards and scores
    if path.name != "predictions.jsonl":
        path = merge_shards(out)
    inputs = input_problems(path, skipped)
    missed = len(unanswered(out))
    if missed:
        err_console.print(f"[yellow]{missed} sample(s) unanswered by {speech_model.spec} (not scored; listed in "
                          f"{out}/unanswered*.jsonl; run the same command again to ask again)[/]")
    run = score([path], host, protocol=protocol, format="llaso", judge=judge)
    run.problems[:0] = [f"inputs: {', '.join(f'{k} {v}' for k, v in inputs['counts'].items())}", *inputs["lines"],
                        *repaired]
    if missed:
        run.problems.append(f"{missed} sample(s) unanswered by the model (listed in unanswered*.jsonl){LEFT_OUT}")
    system = name or system_name(model)
    write_results(run, out, system=system, inputs=[str(path)])
    annotate_results(out, model=model_facts,
                     not_evaluated={m: {"samples": n, "reason": f"{speech_model.spec} cannot take {m} queries"}
                                    for m, n in not_evaluated.items()},
                     unanswered=missed)
    report_from_files([out / "results.json"], out / "report")
    if export:
        export_predictions(path, export)
    _print_summary(run, system)
    console.print(f"wrote {out}/predictions.jsonl, results.json, results.csv, samples.jsonl, report/report.html")
    exit_if_incomplete(run)


def system_name(spec: str) -> str:
    """A short system name for ``--model``: runs/x/instruct/final -> "x/instruct"; another folder -> its
    name; a KIND:REFERENCE spec -> itself."""
    path = Path(spec)
    if not path.is_dir():
        return spec
    resolved = path.resolve()
    return f"{resolved.parents[1].name}/{resolved.parent.name}" if resolved.name == "final" else resolved.name


def first_per_group(samples: list, limit: int) -> list:
    """The first ``limit`` samples of every (task, modality)."""
    seen: dict[tuple[str, str], int] = {}
    kept = []
    for sample in samples:
        key = (sample.task, sample.modality)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            kept.append(sample)
    return kept


def infer_command(
    model: str = typer.Option(..., "--model", "-m", help=MODEL_HELP),
    model_option: Optional[list[str]] = typer.Option(None, "--model-option", "-O", help=OPTION_HELP),
    audio: Optional[Path] = typer.Option(None, "--audio", help="Audio input (with --instruction), or the whole "
                                         "spoken request when given alone."),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="Text instruction about --audio."),
    audio_instruction: Optional[Path] = typer.Option(None, "--audio-instruction", help="Spoken instruction."),
    text: Optional[str] = typer.Option(None, "--text", help="Text input for --audio-instruction."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, help="Answer length limit."),
) -> None:
    """Ask a model one question and stream the answer: --audio + --instruction (ta),
    --audio-instruction + --text (at), or --audio alone (pa)."""
    from llaso_core.data.audio import AudioError
    from llaso_core.inference import Assistant
    from llaso_core.models import ModelSpecError

    if audio is None and audio_instruction is None:
        fail("give --audio (with or without --instruction) or --audio-instruction with --text")
    if audio_instruction is not None and text is None:
        fail("--audio-instruction needs --text (the input the spoken instruction is about)")
    assistant = loaded(model, lambda: Assistant.load(model, **model_options(model_option)))
    try:
        for piece in assistant.stream(audio=audio, instruction=instruction, audio_instruction=audio_instruction,
                                      text=text, max_new_tokens=max_new_tokens):
            console.print(piece, end="", highlight=False, markup=False)
        console.print()
    except (AudioError, ModelSpecError, FileNotFoundError, ValueError, RuntimeError, OSError, TypeError) as exc:
        fail(str(exc))


def loaded(model: str, load: Callable[[], T]) -> T:
    """``load()``; a model that cannot be loaded is a one-line error naming it (``--model``)."""
    from llaso_core.model.lslm import CheckpointError
    from llaso_core.models import ModelSpecError
    from llaso_core.registry import UnknownNameError

    try:
        return load()
    except (ModelSpecError, CheckpointError, UnknownNameError) as exc:  # these name the model themselves
        fail(str(exc))
    except (ValueError, OSError, TypeError) as exc:  # e.g. a hub id that cannot be reached
        fail(f"--model {model}: {exc}")
