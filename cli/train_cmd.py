"""``llaso train``: staged training (listen, align, instruct) over the registered tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import attrs
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from llaso_cli.output import console, err_console, existing_data, fail, writable_folder


def train_command(
    tasks: str = typer.Option("all", "--tasks", help="Comma-separated task ids, or 'all'."),
    modalities: Optional[str] = typer.Option(None, "--modalities", help="Comma-separated modalities. Default: the "
                                             "preset's (cpu: ta,at, which its tiny LLM can read; paper: ta,at,pa)."),
    task_weights: Optional[str] = typer.Option(None, "--task-weights", help="TASK=WEIGHT,...: each task's samples "
                                               "per epoch as a multiple of its own (others: 1; 0 leaves it out), "
                                               "every stage; none: every task once. Default: the preset's."),
    stage: str = typer.Option("all", "--stage", help="The stages to run, comma-separated in this order: listen (the "
                              "encoder alone under classifier heads), align, instruct; or all: the preset's "
                              "(cpu: all three; paper: align, instruct)."),
    data: Optional[str] = typer.Option(None, "--data", help="Dataset folder (train.jsonl, or LLaSO JSON files), or "
                                       "hf:NAME_OR_PATH[@SPLIT]?task=ID. Default: the offline mini-corpus."),
    out: Path = typer.Option(Path("runs/llaso"), "--out", "-o", help="Run folder (config, metrics, checkpoints)."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="A config.json to start from."),
    preset: Optional[str] = typer.Option(None, "--preset", help="cpu (tiny models, CPU-sized batches) or paper "
                                         "(Whisper-large-v3 + Llama-3.2-3B, the paper's recipe). "
                                         "Default: cpu without --data, paper with it."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from this checkpoint (e.g. the align stage's "
                                        "final folder when running --stage instruct)."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Encoder plugin id (llaso plugins)."),
    encoder_checkpoint: Optional[str] = typer.Option(None, "--encoder-checkpoint", help="Path or hub id."),
    llm: Optional[str] = typer.Option(None, "--llm", help="LLM plugin id."),
    llm_checkpoint: Optional[str] = typer.Option(None, "--llm-checkpoint", help="Path or hub id."),
    tune_encoder: Optional[bool] = typer.Option(None, "--tune-encoder/--freeze-encoder",
                                                help="Train or freeze the encoder in the instruct stage. Default: the "
                                                "preset's (cpu: trained at a tenth of the rate; paper: frozen)."),
    micro_batch: Optional[int] = typer.Option(None, "--micro-batch", min=1, help="Samples per forward pass."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stop each stage after N steps."),
    backend: Optional[str] = typer.Option(None, "--backend", help="auto, torch or deepspeed."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    bad_records: Optional[str] = typer.Option(None, "--bad-records", help="Malformed data records: skip (named "
                                              "on stderr and left out; the default) or fail (stop at the first)."),
    long_audio: Optional[str] = typer.Option(None, "--long-audio", help="Clips over 30 s: truncate (cut to the first "
                                             "30 s; the default) or skip (their samples left out); each named in "
                                             "<out>/problems.jsonl."),
    save_every: Optional[int] = typer.Option(None, "--save-every", min=1, help="Checkpoint every N optimizer steps "
                                             "(the run resumes from the last one when started again)."),
    feature_cache: Optional[Path] = typer.Option(None, "--feature-cache", help="Train on a frozen encoder's cached "
                                                 "frames (see `llaso features cache`); clips not cached yet are "
                                                 "encoded once."),
) -> None:
    """Train an LSLM in stages (alignment, then instruction tuning; an optional listen stage first). With
    no arguments: the tiny models on the offline mini-corpus, all three stages, on the CPU in minutes."""
    from llaso_core.model.lslm import CheckpointError
    from llaso_core.registry import UnknownNameError
    from llaso_core.training.config import STAGE_ORDER, TrainConfig, cpu_default
    from llaso_core.training.run import DataError, train

    chosen = None if stage == "all" else tuple(stage.split(","))
    in_order = chosen is None or (set(chosen) <= set(STAGE_ORDER)
                                  and list(chosen) == sorted(set(chosen), key=STAGE_ORDER.index))
    if not in_order:
        fail(f"unknown --stage {stage!r}; use listen, align, instruct (comma-separated, in that order) or all")
    preset = preset or ("cpu" if data is None else "paper")
    if preset not in ("cpu", "paper"):
        fail(f"unknown --preset {preset!r}; use cpu or paper")
    if bad_records not in (None, "skip", "fail"):
        fail(f"unknown --bad-records {bad_records!r}; use skip or fail")
    if long_audio not in (None, "truncate", "skip"):
        fail(f"unknown --long-audio {long_audio!r}; use truncate or skip")
    if backend not in (None, "auto", "torch", "deepspeed"):
        fail(f"unknown --backend {backend!r}; use auto, torch or deepspeed")
    if data is not None:
        existing_data(data)
    writable_folder(out)
    if config_file is not None:
        try:
            config = TrainConfig.load(config_file)
        except (OSError, ValueError, TypeError) as exc:
            fail(f"cannot read --config {config_file}: {exc}")
    else:
        config = cpu_default() if preset == "cpu" else _paper_default()
    model = config.model
    model = attrs.evolve(model, **{k: v for k, v in {"encoder": encoder, "llm": llm}.items() if v})
    if encoder_checkpoint:
        model = attrs.evolve(model, encoder_options={**model.encoder_options, "checkpoint": encoder_checkpoint})
    if llm_checkpoint:
        model = attrs.evolve(model, llm_options={**model.llm_options, "checkpoint": llm_checkpoint})
    stages = {name: config.stage(name) for name in STAGE_ORDER}
    if tune_encoder is not None:
        kept = tuple(p for p in stages["instruct"].trainable if p != "encoder")
        scales = {p: x for p, x in stages["instruct"].lr_scale.items() if tune_encoder or p != "encoder"}
        stages["instruct"] = attrs.evolve(stages["instruct"], trainable=kept + (("encoder",) if tune_encoder else ()),
                                          lr_scale=scales)
    if max_steps:
        stages = {name: attrs.evolve(s, max_steps=max_steps) for name, s in stages.items()}
    if task_weights is not None:
        weights = parse_weights(task_weights)
        stages = {name: attrs.evolve(s, task_weights=weights) for name, s in stages.items()}
    overrides = {"micro_batch": micro_batch, "backend": backend, "seed": seed, "bad_records": bad_records,
                 "long_audio": long_audio, "save_every": save_every,
                 "feature_cache": str(feature_cache) if feature_cache else None}
    config = attrs.evolve(config, out=str(out), data=str(data) if data else None, model=model, **stages,
                          tasks=tuple(tasks.split(",")),
                          modalities=tuple(modalities.split(",")) if modalities else config.modalities,
                          stages=chosen or config.stages,
                          **{k: v for k, v in overrides.items() if v is not None})
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[stats]}"), TimeRemainingColumn(), console=err_console) as bar:
        bars: dict[str, int] = {}

        def progress(log) -> None:
            if log.stage not in bars:
                bars[log.stage] = bar.add_task(f"stage {log.stage}", total=log.total_steps, stats="")
            bar.update(bars[log.stage], completed=log.step, stats=(
                f"loss {log.loss:.3f}  lr {log.lr:.2e}  {log.samples_per_s:.1f} samples/s  "
                f"{log.tokens_per_s:.0f} tok/s"))

        try:
            results = train(config, progress=progress, announce=lambda m: err_console.print(m, highlight=False),
                            init=str(init) if init else None)
        except (DataError, UnknownNameError, FileNotFoundError, CheckpointError) as exc:
            fail(str(exc))
    if all(r.resumed_from >= r.steps for r in results):
        err_console.print(f"the run is complete: nothing was trained again ({out})", soft_wrap=True, highlight=False)
    table = Table(title=f"training summary ({out})")
    for column in ("stage", "steps", "first loss", "last loss", "samples", "minutes", "checkpoint"):
        table.add_column(column)
    for r in results:
        table.add_row(r.stage, str(r.steps), _loss(r.first_loss), _loss(r.last_loss), str(r.samples),
                      f"{r.seconds / 60:.1f}", r.checkpoint)
    console.print(table)


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _paper_default():
    from llaso_core.model.lslm import LSLMConfig
    from llaso_core.training.config import TrainConfig

    return TrainConfig(model=LSLMConfig(encoder="whisper", llm="llama", projector_hidden=3072),
                       checkpoint_dtype="bfloat16")


def parse_weights(text: str) -> dict[str, float]:
    """``"ASR=0.2,AQA=0.5"`` -> ``{"ASR": 0.2, "AQA": 0.5}``, ``"none"`` -> ``{}``; a one-line error for
    anything else."""
    weights: dict[str, float] = {}
    if text.strip().lower() == "none":
        return weights
    for item in filter(None, (part.strip() for part in text.split(","))):
        task, sep, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not task.strip() or not weight >= 0:
            fail(f"--task-weights: {item!r} is not TASK=WEIGHT with a weight >= 0")
        weights[task.strip()] = weight
    return weights
