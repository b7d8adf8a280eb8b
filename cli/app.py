"""The ``llaso`` command: one typer app, sub-commands in their own modules."""

from __future__ import annotations

import typer

from llaso_cli import tasks_cmd
from llaso_cli.modalities_cmd import modalities
from llaso_cli.plugins_cmd import plugins
from llaso_cli.report_cmd import report
from llaso_cli.score_cmd import score_command

app = typer.Typer(
    name="llaso",
    help="Train and evaluate LLaSO-style speech-language models. Tasks, modalities, encoders and "
         "LLMs are plugins (see `llaso plugins`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("plugins")(plugins)
app.command("modalities")(modalities)
app.add_typer(tasks_cmd.app, name="tasks")
app.command("score")(score_command)
app.command("report")(report)


def main() -> None:
    app()
