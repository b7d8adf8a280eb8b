"""The judge options of ``llaso score`` and ``llaso eval``, defined once.

``@with_judge_options(default_backend)`` adds ``--judge``, ``--judge-model``, ``--judge-base-url``,
``--judge-concurrency``, ``--judge-cache``, ``--retry-failed``, ``--judge-timeout``,
``--judge-retries`` and ``--judge-deadline`` to a command, and hands the command one
``judge: JudgeOptions`` built from them.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer

from llaso_cli.output import fail
from llaso_core.evaluation.judging import JudgeOptions, default_cache_path

BACKENDS = ("openai", "none")
Command = TypeVar("Command", bound=Callable[..., Any])


def _options(default_backend: str) -> dict[str, tuple[Any, Any]]:
    """Parameter name -> (type, typer option)."""
    return {
        "judge_backend": (str, typer.Option(default_backend, "--judge", help="openai (any OpenAI-compatible "
                                            "server) or none (only recorded/cached verdicts; the rest stay "
                                            "unscored).")),
        "judge_model": (str, typer.Option("gpt-4o-mini", "--judge-model", help="Judge model name.")),
        "judge_base_url": (Optional[str], typer.Option(None, "--judge-base-url", envvar="LLASO_JUDGE_BASE_URL",
                                                       help="Base URL of an OpenAI-compatible API.")),
        "judge_concurrency": (int, typer.Option(8, "--judge-concurrency", min=1, help="Parallel judge requests.")),
        "judge_cache": (Optional[Path], typer.Option(None, "--judge-cache", help="Judge cache file [default: "
                                                     "$LLASO_CACHE_DIR/judge.sqlite or ~/.cache/llaso/judge.sqlite].")),
        "retry_failed": (bool, typer.Option(False, "--retry-failed", help="Ask the judge again for failed "
                                            "verdicts (API errors, no parsable score).")),
        "judge_timeout": (float, typer.Option(60.0, "--judge-timeout", min=0.001, help="Seconds one judge "
                                              "request may take.")),
        "judge_retries": (int, typer.Option(5, "--judge-retries", min=0, help="Further tries of a judge request "
                                            "after a time-out, 429 or 5xx.")),
        "judge_deadline": (Optional[float], typer.Option(None, "--judge-deadline", min=0.0, help="Seconds for all "
                                                         "judge calls of the run; verdicts not in by then are "
                                                         "reported as API failures [default: no limit].")),
    }


def with_judge_options(default_backend: str) -> Callable[[Command], Command]:
    """Decorate a typer command that takes ``judge: JudgeOptions`` (see module docstring)."""
    def decorate(command: Command) -> Command:
        options = _options(default_backend)
        signature = inspect.signature(command)
        kept = [p for p in signature.parameters.values() if p.name != "judge"]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind)
                 for name, (kind, option) in options.items()]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in options}
            return command(*args, judge=judge_options_from(**values), **kwargs)

        wrapper.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def judge_options_from(*, judge_backend: str, judge_model: str, judge_base_url: str | None,
                       judge_concurrency: int, judge_cache: Path | None, retry_failed: bool,
                       judge_timeout: float, judge_retries: int, judge_deadline: float | None) -> JudgeOptions:
    """The `JudgeOptions` of the command line; an unknown ``--judge`` is a one-line error."""
    if judge_backend not in BACKENDS:
        fail(f"unknown --judge {judge_backend!r}; use {' or '.join(BACKENDS)}")
    return JudgeOptions(backend=judge_backend, model=judge_model, base_url=judge_base_url,
                        concurrency=judge_concurrency, cache_path=judge_cache or default_cache_path(),
                        retry_failed=retry_failed, timeout=judge_timeout, retries=judge_retries,
                        deadline=judge_deadline)
