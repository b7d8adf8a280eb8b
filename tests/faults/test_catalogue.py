"""Every case of the fault catalogue through the ``llaso`` command (in this process, or a fresh
one for plugin cases): the exit status, a message naming the file/sample/plugin and the problem,
no traceback, an error in one line, and nothing already computed lost."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from llaso_cli import output
from llaso_cli.app import app
from tests.faults.catalogue import CASES, Case, Fixtures

REPO = Path(__file__).resolve().parents[2]


def fresh_llaso(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m llaso_cli ARGS`` in a new process in ``tmp``, with ``tmp/site`` (third-party
    plugins) importable and a wide console, so no message is wrapped."""
    path = os.pathsep.join(p for p in (str(tmp / "site"), str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "1000", "LLASO_DISABLE_PLUGINS": ""}
    return subprocess.run([sys.executable, "-m", "llaso_cli", *args], capture_output=True, text=True, env=env,
                          cwd=tmp, timeout=300)


def run(case: Case, tmp: Path, fixtures: Fixtures, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """(exit status, stdout+stderr, stderr); fails the test on a traceback."""
    args = case.make(tmp, fixtures)
    if case.fresh:
        done = fresh_llaso(tmp, *args)
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout + done.stderr, done.stderr
    monkeypatch.chdir(tmp)
    for console in (output.console, output.err_console):
        monkeypatch.setattr(console, "width", 1000)
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)))
    return result.exit_code, result.output, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, fixtures: Fixtures, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, text, stderr = run(case, tmp_path, fixtures, monkeypatch)
    assert code == case.code, text
    for words in case.says:
        assert words.format(tmp=tmp_path) in text, text
    for words in case.absent:
        assert words not in text, text
    if case.code == 2 and "Usage" not in stderr:  # an error is one line
        assert len([line for line in stderr.splitlines() if line.strip()]) == 1, stderr
    if case.kept is not None:
        case.kept(tmp_path, fixtures)


#: Case-id prefixes that are not command names, and the command they exercise.
PREFIX_COMMAND = {"release": "data inspect", "jsonl": "data inspect", "inspect": "data inspect",
                  "audio": "data inspect", "plugin": "plugins", "unknown": "llaso"}


def leaf_commands() -> dict[str, list[str]]:
    """Every command line llaso runs (``data inspect``, ``score``, ...) and the inputs it takes."""
    found: dict[str, list[str]] = {}

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                walk(command.get_command(None, name), (*path, name))
        else:
            found[" ".join(path)] = [p.name for p in command.params if p.name not in ("help", "as_json")]

    walk(typer.main.get_command(app), ())
    return found


def command_of(case: Case, groups: set[str]) -> str:
    words = case.id.split("-")
    if words[0] in PREFIX_COMMAND:
        return PREFIX_COMMAND[words[0]]
    return " ".join(words[:2]) if words[0] in groups else words[0]


def test_every_command_with_inputs_has_cases() -> None:
    commands = leaf_commands()
    assert {"score", "data inspect", "features cache", "tasks show"} <= set(commands)
    groups = {name.split()[0] for name in commands if " " in name}
    covered = {command_of(c, groups) for c in CASES}
    with_inputs = {name for name, inputs in commands.items() if inputs}
    assert with_inputs <= covered, with_inputs - covered
    assert covered - {"llaso"} <= set(commands), covered - set(commands)  # no case names a command llaso lacks


def test_docs_list_every_case() -> None:
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not missing, f"docs/reliability.md lacks {missing}"
