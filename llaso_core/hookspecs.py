"""The plugin hooks. Every hook receives a ``register`` callback (the ``llm``/datasette style).

A plugin module implements any of these with ``@llaso_core.hookimpl`` and calls ``register(spec)``
once per thing it adds. Registration records specs and lazy ``"module:attr"`` factories only, so
listing what is installed never imports torch or transformers.
"""

from __future__ import annotations

from typing import Callable

import pluggy

PROJECT_NAME = "llaso"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Register = Callable[..., None]


@hookspec
def llaso_register_tasks(register: Register) -> None:
    """Register :class:`~llaso_core.specs.TaskSpec` objects."""


@hookspec
def llaso_register_modalities(register: Register) -> None:
    """Register :class:`~llaso_core.specs.ModalitySpec` objects (query layouts, paper Eq. 1)."""


@hookspec
def llaso_register_encoders(register: Register) -> None:
    """Register :class:`~llaso_core.specs.EncoderSpec` objects (audio -> frames)."""


@hookspec
def llaso_register_llms(register: Register) -> None:
    """Register :class:`~llaso_core.specs.LLMSpec` objects (decoder LM + tokenizer)."""


@hookspec
def llaso_register_metrics(register: Register) -> None:
    """Register :class:`~llaso_core.specs.MetricSpec` objects."""


@hookspec
def llaso_register_extractors(register: Register) -> None:
    """Register :class:`~llaso_core.specs.ExtractorSpec` objects (prediction -> answer)."""


@hookspec
def llaso_register_judges(register: Register) -> None:
    """Register :class:`~llaso_core.specs.JudgeSpec` objects (LLM-as-judge back-ends)."""


@hookspec
def llaso_register_tts(register: Register) -> None:
    """Register :class:`~llaso_core.specs.TTSSpec` objects (speech synthesis engines, paper App. H)."""


@hookspec
def llaso_register_recipes(register: Register) -> None:
    """Register :class:`~llaso_core.specs.RecipeSpec` objects: how ``llaso data synth`` makes a
    task's mini-corpus samples (one recipe per task id)."""


@hookspec
def llaso_register_adapters(register: Register) -> None:
    """Register :class:`~llaso_core.specs.AdapterSpec` objects: raw-corpus layouts ``llaso data
    build`` reads (one per corpus)."""


@hookspec
def llaso_register_models(register: Register) -> None:
    """Register :class:`~llaso_core.specs.ModelSpec` objects (``--model KIND:REFERENCE`` adapters)."""
