"""The top-level handler: the project's error types and OS errors end as one line with exit 2,
anything else (a bug) keeps its traceback."""

from __future__ import annotations

import errno

import pytest
import typer
from typer.testing import CliRunner

from llaso_cli.app import LlasoGroup, expected_error
from llaso_core.data.release import ReleaseError


def app_raising(exc: BaseException) -> typer.Typer:
    app = typer.Typer(cls=LlasoGroup)

    @app.command()
    def boom() -> None:
        raise exc

    @app.command()
    def other() -> None:  # two commands, so `boom` is a sub-command as in llaso
        pass

    return app


@pytest.mark.parametrize("exc, line", [
    (ReleaseError("/data/x.json: sample 3: no 'conversations' list"), "/data/x.json: sample 3: no 'conversations' list"),
    (OSError(errno.ENOSPC, "No space left on device", "/runs/a/predictions.jsonl"),
     "/runs/a/predictions.jsonl: No space left on device"),
])
def test_expected_failures_are_one_line(exc, line):
    result = CliRunner().invoke(app_raising(exc), ["boom"])
    assert result.exit_code == 2 and result.stderr.strip() == f"error: {line}"


def test_a_bug_keeps_its_traceback():
    assert expected_error(KeyError("x")) is None
    result = CliRunner().invoke(app_raising(KeyError("x")), ["boom"])
    assert isinstance(result.exception, KeyError)
