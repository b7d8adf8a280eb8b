"""``llaso convert KIND SOURCE --out DIR``: turn a published checkpoint into a folder ``--model DIR`` loads."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from llaso_cli.output import console, fail


def convert_command(
    kind: str = typer.Argument(..., help="Model kind with a converter (see llaso models), e.g. llaso-release."),
    source: str = typer.Argument(..., help="The checkpoint: a folder or a hub id."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write."),
    audio_tower: Optional[str] = typer.Option(None, "--audio-tower", help="Local Whisper folder, when the "
                                              "checkpoint's config points at a path that does not exist here."),
) -> None:
    """Convert once; then `llaso eval --model DIR` evaluates the copy with the same forward."""
    from llaso_core.loader import get_host
    from llaso_core.registry import UnknownNameError
    from llaso_core.specs import load_ref

    host = get_host()
    try:
        spec = host.models.get(kind)
    except UnknownNameError as exc:
        fail(str(exc))
    if spec.converter is None:
        with_converter = [s.id for s in host.models if s.converter]
        fail(f"model kind {kind} has no converter (kinds with one: {', '.join(with_converter) or 'none'})")
    if out.exists() and any(out.iterdir()):
        fail(f"{out} exists and is not empty; choose a new --out folder")
    try:
        written = load_ref(spec.converter)(source, out, audio_tower=audio_tower)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    console.print(f"wrote {written}; evaluate it with: llaso eval --model {written} --out ...")
