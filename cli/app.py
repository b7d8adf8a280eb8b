"""The ``llaso`` command: one typer app, sub-commands in their own modules."""

from __future__ import annotations

import typer

from llaso_cli import data_cmd, features_cmd, tasks_cmd
from llaso_cli.modalities_cmd import modalities
from llaso_cli.models_cmd import models
from llaso_cli.convert_cmd import convert_command
from llaso_cli.eval_cmd import eval_command, infer_command
from llaso_cli.plugins_cmd import plugins
from llaso_cli.report_cmd import report
from llaso_cli.score_cmd import score_command
from llaso_cli.train_cmd import train_command

app = typer.Typer(
    name="llaso",
    help="Train and evaluate LLaSO-style speech-language models. Tasks, modalities, encoders and "
         "LLMs are plugins (see `llaso plugins`).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("plugins")(plugins)
app.command("modalities")(modalities)
app.command("models")(models)
app.add_typer(tasks_cmd.app, name="tasks")
app.add_typer(data_cmd.app, name="data")
app.add_typer(features_cmd.app, name="features")
app.command("score")(score_command)
app.command("report")(report)
app.command("train")(train_command)
app.command("eval")(eval_command)
app.command("infer")(infer_command)
app.command("convert")(convert_command)


def main() -> None:
    app()
