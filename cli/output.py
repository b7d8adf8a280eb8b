"""Console helpers shared by the commands: one rich console, JSON output, clean errors."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error (no traceback) and exit; a message of several lines (e.g. a library's) is
    joined into one."""
    message = " ".join(line.strip() for line in message.splitlines() if line.strip())
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def writable_folder(path: Path, option: str = "--out") -> Path:
    """Create ``path`` if needed and check a file can be written there, before any work starts;
    otherwise a one-line error naming the option and the place (exit 2)."""
    if path.exists() and not path.is_dir():
        fail(f"{option} {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        fail(f"{option} {path}: cannot write there ({exc.strerror or exc})")
    return path


def existing_data(data: str, option: str = "--data") -> str:
    """A one-line error (exit 2) unless ``data`` exists or is an ``hf:`` dataset reference."""
    if not data.startswith("hf:"):
        existing_path(Path(data), option)
    return data


def existing_path(path: Path, option: str) -> Path:
    """A one-line error (exit 2) unless ``path`` exists."""
    if not path.exists():
        fail(f"{option} {path}: no such file or folder")
    return path
