"""``llaso eval`` and ``llaso infer``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from llaso_cli.judge_options import with_judge_options
from llaso_cli.output import console, err_console, fail, writable_folder
from llaso_cli.score_cmd import _print_summary, exit_if_incomplete
from llaso_core.evaluation.judging import JudgeOptions
from llaso_core.metrics.base import Protocol


@with_judge_options(default_backend="none")
def eval_command(
    model: Path = typer.Option(..., "--model", "-m", help="A checkpoint folder written by llaso train."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for predictions, results and the report."),
    tasks: str = typer.Option("all", "--tasks", help="Comma-separated task ids, or 'all'."),
    modalities: str = typer.Option("ta,at,pa", "--modalities", help="Comma-separated modalities."),
    data: Optional[Path] = typer.Option(None, "--data", help="Evaluation set: LLaSO-Eval folder, unified jsonl or "
                                        "folder. Default: the mini-corpus eval split."),
    split: str = typer.Option("eval", "--split", help="Which split of a unified dataset to evaluate."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Queries per generation batch."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most N samples per task and modality "
                                        "(quick checks)."),
    protocol: Protocol = typer.Option(Protocol.STRICT, "--protocol", help="paper or strict scoring rules."),
    bad_records: str = typer.Option("skip", "--bad-records", help="Malformed data records: skip (named in the "
                                    "results' problems and left out) or fail (stop at the first)."),
    long_audio: str = typer.Option("truncate", "--long-audio", help="Clips over 30 s: truncate (cut to the first "
                                   "30 s, noted per sample) or skip (no prediction, named as too_long)."),
    export_release: Optional[Path] = typer.Option(None, "--export-release", help="Also write the predictions in "
                                                  "the LLaSO release layout here."),
    name: Optional[str] = typer.Option(None, "--name", help="System name in results and report."),
    *,
    judge: JudgeOptions,
) -> None:
    """Evaluate a checkpoint: batched generation (resumable: re-run the same command after a crash),
    then extraction, judging and scoring as `llaso score`, and the report."""
    from llaso_core.data.audio import AudioPolicy
    from llaso_core.evaluation.evaluate import (
        export_release as export,
        generate_predictions,
        input_problems,
        merge_shards,
        wait_for_ranks,
    )
    from llaso_core.evaluation.generate import GenerationOptions, Generator
    from llaso_core.evaluation.results import write_results
    from llaso_core.evaluation.score import score
    from llaso_core.loader import get_host
    from llaso_core.model.lslm import LSLM
    from llaso_core.registry import UnknownNameError
    from llaso_core.reports import report_from_files
    from llaso_core.training.config import cpu_default
    from llaso_core.training.run import DataError, load_samples

    if bad_records not in ("skip", "fail") or long_audio not in ("truncate", "skip"):
        fail(f"unknown --bad-records {bad_records!r} or --long-audio {long_audio!r}; use skip/fail and truncate/skip")
    writable_folder(out)
    host = get_host()
    try:
        config = cpu_default(data=str(data) if data else None, tasks=tuple(tasks.split(",")),
                             modalities=tuple(modalities.split(",")), bad_records=bad_records)
        skipped: list = []
        repaired: list[str] = []
        samples, root = load_samples(config, host, split=split, skipped=skipped, repaired=repaired,
                                     announce=lambda m: err_console.print(m, highlight=False))
        lsm = LSLM.from_pretrained(model, host)
    except (DataError, UnknownNameError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if limit:
        samples = first_per_group(samples, limit)
    if not samples:
        fail("no evaluation samples for these tasks and modalities")
    generator = Generator(lsm)
    with Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err_console) as bar:
        task = bar.add_task("", total=len(samples))
        path, _ = generate_predictions(generator, samples, root, out, host,
                                       options=GenerationOptions(batch_size=batch_size),
                                       audio_policy=AudioPolicy(on_long=long_audio),
                                       progress=lambda done, total: bar.update(task, completed=done, total=total))
    if not wait_for_ranks():
        return  # rank 0 merges the shards and scores
    if path.name != "predictions.jsonl":
        path = merge_shards(out)
    inputs = input_problems(path, skipped)
    run = score([path], host, protocol=protocol, format="llaso", judge=judge)
    run.problems[:0] = [f"inputs: {', '.join(f'{k} {v}' for k, v in inputs['counts'].items())}", *inputs["lines"],
                        *repaired]
    resolved = model.resolve()  # runs/x/instruct/final -> "x/instruct"; any other folder -> its name
    system = name or (f"{resolved.parents[1].name}/{resolved.parent.name}" if resolved.name == "final"
                      else resolved.name)
    write_results(run, out, system=system, inputs=[str(path)])
    report_from_files([out / "results.json"], out / "report")
    if export_release:
        export(path, export_release)
    _print_summary(run, system)
    console.print(f"wrote {out}/predictions.jsonl, results.json, results.csv, samples.jsonl, report/report.html")
    exit_if_incomplete(run)


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
    model: Path = typer.Option(..., "--model", "-m", help="A checkpoint folder written by llaso train."),
    audio: Optional[Path] = typer.Option(None, "--audio", help="Audio input (with --instruction), or the whole "
                                         "spoken request when given alone."),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="Text instruction about --audio."),
    audio_instruction: Optional[Path] = typer.Option(None, "--audio-instruction", help="Spoken instruction."),
    text: Optional[str] = typer.Option(None, "--text", help="Text input for --audio-instruction."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, help="Answer length limit."),
) -> None:
    """Ask a checkpoint one question and stream the answer: --audio + --instruction (ta),
    --audio-instruction + --text (at), or --audio alone (pa)."""
    from llaso_core.data.audio import AudioError
    from llaso_core.inference import Assistant

    if audio is None and audio_instruction is None:
        fail("give --audio (with or without --instruction) or --audio-instruction with --text")
    if audio_instruction is not None and text is None:
        fail("--audio-instruction needs --text (the input the spoken instruction is about)")
    try:
        assistant = Assistant.load(model)
        for piece in assistant.stream(audio=audio, instruction=instruction, audio_instruction=audio_instruction,
                                      text=text, max_new_tokens=max_new_tokens):
            console.print(piece, end="", highlight=False, markup=False)
        console.print()
    except (AudioError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
