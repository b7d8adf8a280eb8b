"""The ``llaso`` command: one typer app, sub-commands in their own modules.

Every command runs inside :class:`LlasoGroup`: an expected failure (bad data, an unknown name, a
file that cannot be read or written) that a command did not turn into a message itself ends as one
line on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import typer
from typer.core import TyperGroup

from llaso_cli import data_cmd, features_cmd, tasks_cmd
from llaso_cli.modalities_cmd import modalities
from llaso_cli.models_cmd import models
from llaso_cli.convert_cmd import convert_command
from llaso_cli.eval_cmd import eval_command, infer_command
from llaso_cli.output import fail
from llaso_cli.plugins_cmd import plugins
from llaso_cli.report_cmd import report
from llaso_cli.score_cmd import score_command
from llaso_cli.train_cmd import train_command


#: The project's error types for bad input, as (module, class). An exception of one of them can only
#: have been raised if its module is imported, so they are looked up in ``sys.modules``, never imported.
EXPECTED_ERRORS = (
    ("llaso_core.registry", "RegistryError"), ("llaso_core.loader", "PluginError"),
    ("llaso_core.data.audio", "AudioError"), ("llaso_core.data.release", "ReleaseError"),
    ("llaso_core.data.store", "StoreError"), ("llaso_core.data.build.items", "BuildError"),
    ("llaso_core.evaluation.predictions", "PredictionFileError"), ("llaso_core.training.data", "DataError"),
    ("llaso_core.reports.load", "ResultsError"), ("llaso_core.specs", "SpecError"),
)


def expected_error(exc: BaseException) -> str | None:
    """The one-line message for a failure caused by the user's input or environment; None for a bug."""
    types = tuple(getattr(sys.modules[module], name) for module, name in EXPECTED_ERRORS
                  if hasattr(sys.modules.get(module), name))
    if isinstance(exc, types):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename if exc.filename is not None else 'llaso'}: {exc.strerror}"
    return None


class LlasoGroup(TyperGroup):
    """The top-level group: turns expected failures into ``error: ...`` and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            message = expected_error(exc)
            if message is None:
                raise
            fail(message)


app = typer.Typer(
    name="llaso",
    cls=LlasoGroup,
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
