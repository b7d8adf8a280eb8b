"""``llaso report`` through a typer app of its own (the main app wires it in the same way)."""

import json

import pytest
import typer
from typer.testing import CliRunner

from llaso_cli.report_cmd import report

from . import fixtures

app = typer.Typer(pretty_exceptions_enable=False)
app.command("report")(report)


@app.command("version")
def _version() -> None:  # a second command, so that "report" is a sub-command as in the real app
    pass


runner = CliRunner()


def test_report_writes_markdown_html_and_figures(results_files, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", *map(str, results_files[:2]), "--out", str(out), "--title", "Two"])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").read_text().startswith("# Two")
    assert (out / "report.html").is_file()
    assert len(list((out / "figures").glob("*.png"))) == 5
    assert "LLaSO-Base" in result.output and "cells)" in result.output and "report.html" in result.output


def test_single_system_says_normalisation_needs_two(results_files, tmp_path):
    result = runner.invoke(app, ["report", str(results_files[0]), "-o", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert "needs ≥2 systems" in result.output


def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for needle in needles:
        assert needle in lines[0]


def test_missing_file_is_a_clear_error(results_files, tmp_path):
    missing = tmp_path / "absent" / "results.json"
    result = runner.invoke(app, ["report", str(results_files[0]), str(missing), "--out", str(tmp_path / "o")])
    one_line_error(result, "results.json", "no such file")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content, message", [
    ("{broken", "malformed JSON"),
    (json.dumps({**fixtures.llaso_base(), "schema_version": "llaso.results/2"}), "schema_version"),
])
def test_malformed_or_wrong_schema_is_a_clear_error(tmp_path, content, message):
    bad = tmp_path / "bad_results.json"
    bad.write_text(content)
    result = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "o")])
    one_line_error(result, "bad_results.json", message)


def test_help_describes_the_command_and_every_option():
    result = runner.invoke(app, ["report", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("Compare scored systems", "results.json files written by", "Output folder", "Title of the report",
                 "--out", "--title"):
        assert text in result.output
