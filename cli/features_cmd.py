"""``llaso features cache``: run a frozen encoder once over a dataset and store its frames."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from llaso_cli.output import console, err_console, existing_data, fail, writable_folder

app = typer.Typer(help="Frozen-encoder feature caches (train on cached frames instead of audio).",
                  no_args_is_help=True)


@app.callback()
def features() -> None:
    """Frozen-encoder feature caches (train on cached frames instead of audio)."""


def features_cache(
    model: str = typer.Option(..., "--model", "-m", help="An LSLM checkpoint folder (its encoder is used), or an "
                              "encoder plugin id, optionally with a checkpoint as ID:PATH_OR_HUB_ID "
                              "(e.g. whisper, whisper:/models/whisper-large-v3)."),
    data: str = typer.Option(..., "--data", help="Dataset folder (train.jsonl, or LLaSO JSON files), or "
                             "hf:NAME_OR_PATH[@SPLIT]?task=ID (a Hugging Face dataset; see the README's data section)."),
    out: Path = typer.Option(..., "--out", "-o", help="Cache root; frames go to OUT/<encoder fingerprint>/. Give the "
                             "same folder to `llaso train` as the feature cache."),
    batch: int = typer.Option(16, "--batch", min=1, help="Clips per encoder call (clips are sorted by length)."),
    split: str = typer.Option("train", "--split", help="Which split's audio to encode."),
    tasks: str = typer.Option("all", "--tasks", help="Comma-separated task ids, or 'all'."),
    modalities: str = typer.Option("ta,at,pa", "--modalities", help="Comma-separated modalities."),
    length_mode: Optional[str] = typer.Option(None, "--length-mode", help="Whisper only: pad30 (every clip "
                                              "encoded padded to 30 s, as Whisper was trained; frames stored "
                                              "trimmed) or trim. Must match the training run's encoder."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1... Default: cuda:LOCAL_RANK if present."),
    bf16: bool = typer.Option(False, "--bf16/--fp32", help="Run the encoder under bf16 autocast (GPU); frames "
                              "are stored as float16 either way."),
) -> None:
    """Encode every audio file of a dataset once with a frozen encoder and store the valid frames
    (float16), keyed by the encoder's fingerprint and the file. Both training stages and every epoch
    reuse them; running it again only encodes what is missing. Under torchrun each rank encodes its
    own share of the clips into its own shards."""
    import torch

    from llaso_core.data.load import DataError, load_data
    from llaso_core.distributed import local_device
    from llaso_core.loader import get_host
    from llaso_core.registry import UnknownNameError
    from llaso_core.training.features import FeatureCache, sample_audio_paths

    existing_data(data)
    writable_folder(out)
    if length_mode not in (None, "trim", "pad30"):
        fail(f"unknown --length-mode {length_mode!r}; use trim or pad30")
    if device is not None:
        try:
            device_obj = torch.device(device)
        except RuntimeError as exc:
            fail(f"unknown --device {device!r}: {exc}")
        if device_obj.type == "cuda" and not torch.cuda.is_available():
            fail(f"--device {device} asked for, but no CUDA device is available")
    else:
        device_obj = local_device()  # cuda:LOCAL_RANK under a multi-rank launch
    if bf16 and device_obj.type != "cuda":
        fail("--bf16 needs a CUDA device")
    host = get_host()
    try:
        encoder, encoder_id = load_encoder(model, host, length_mode)
    except (UnknownNameError, FileNotFoundError, OSError, ValueError) as exc:
        fail(str(exc))
    try:
        samples = load_data(data, split=split, tasks=tasks.split(","), modalities=modalities.split(","), host=host,
                            announce=lambda m: err_console.print(m, highlight=False))
    except (DataError, UnknownNameError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    paths = sample_audio_paths(samples, samples.root)
    if not paths:
        fail(f"no audio in {data} (split {split}, tasks {tasks}, modalities {modalities})")
    encoder.to(device_obj)
    err_console.print(f"fingerprinting the {encoder_id} encoder...")
    cache = FeatureCache.for_encoder(out, encoder, encoder_id)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]encoding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console) as bar:
        task = bar.add_task("encode", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = cache.build(encoder, paths, encoder_id=encoder_id, batch_size=batch, device=device_obj,
                             dtype=torch.bfloat16 if bf16 else None, progress=progress)
    console.print(f"cache {cache.folder}: {report.clips} clip(s) encoded, {report.already} already cached, "
                  f"{report.problems} unreadable (skipped); {report.frames} frames, "
                  f"{report.bytes / 2**20:.1f} MiB in {report.seconds:.1f} s", highlight=False)
    if report.problems:
        for problem in report.audio.problems[:5]:
            err_console.print(f"  {problem.kind}: {problem.path} {problem.detail}", highlight=False)


def load_encoder(model: str, host, length_mode: str | None = None):
    """(encoder, plugin id) for ``--model``: an LSLM checkpoint folder, ``ID`` or ``ID:CHECKPOINT``."""
    from llaso_core.model.lslm import CONFIG_FILE, LSLM

    folder = Path(model)
    if folder.is_dir() and (folder / CONFIG_FILE).exists():
        if length_mode is not None:
            raise ValueError("--length-mode applies to an encoder plugin id, not to an LSLM checkpoint "
                             "(the checkpoint's encoder is used as trained)")
        lslm = LSLM.from_pretrained(folder, host)
        return lslm.encoder, lslm.config.encoder
    if folder.exists():
        raise FileNotFoundError(f"--model {model} is a path but not an LSLM checkpoint (no {CONFIG_FILE}); for a "
                                f"Whisper folder use whisper:{model}")
    encoder_id, _, checkpoint = model.partition(":")
    spec = host.encoders.get(encoder_id)
    checkpoint = checkpoint or spec.default_checkpoint
    if checkpoint is None:
        raise ValueError(f"the {spec.id} encoder has no pretrained weights (random initialisation): cache it from "
                         "an LSLM checkpoint folder that holds its trained weights")
    options = {"length_mode": length_mode} if length_mode else {}
    return spec.load()(checkpoint, **options), spec.id


app.command("cache")(features_cache)
