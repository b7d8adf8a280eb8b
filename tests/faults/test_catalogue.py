"""Every case of the fault catalogue through the ``llaso`` command (in this process, or a fresh
one for plugin cases): the exit status, a message naming the file/sample/plugin and the problem,
no traceback, an error in one line, and nothing already computed lost."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
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


#: Case-id prefixes that are not command names.
PREFIX_COMMAND = {"release": "data", "jsonl": "data", "inspect": "data", "audio": "data", "plugin": "plugins"}


def test_every_command_has_cases() -> None:
    listed = CliRunner().invoke(app, ["--help"], terminal_width=200).output
    commands = set(re.findall(r"^│ (\w+) ", listed.split("Commands")[1], re.M))
    assert len(commands) >= 10
    covered = {PREFIX_COMMAND.get(c.id.split("-")[0], c.id.split("-")[0]) for c in CASES}
    assert commands <= covered, commands - covered


def test_docs_list_every_case() -> None:
    text = (REPO / "docs" / "reliability.md").read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"`{c.id}`" not in text]
    assert not missing, f"docs/reliability.md lacks {missing}"
