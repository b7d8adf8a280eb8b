"""Specs of the pieces a task or a model refers to by name: encoders, LLMs, metrics, extractors, judges.

Each holds a lazy ``"module:attr"`` reference; nothing heavy is imported until it is used.
"""

from __future__ import annotations

import attrs

from llaso_core.specs.base import as_tuple, identifier, lazy_ref, load_ref, one_of, tuple_of

METRIC_UNITS = ("fraction", "score", "semitones", "years", "count")
QUERY_MODALITIES = ("ta", "at", "pa")


@attrs.frozen
class _Component:
    id: str = attrs.field(validator=identifier)
    factory: str = attrs.field(validator=lazy_ref)
    description: str = ""

    def load(self):
        """Import and return the object behind ``factory``."""
        return load_ref(self.factory)


@attrs.frozen
class EncoderSpec(_Component):
    """An audio encoder: ``factory(config) -> torch.nn.Module`` turning audio into frames."""

    default_checkpoint: str | None = None


@attrs.frozen
class LLMSpec(_Component):
    """A decoder LM with its tokenizer and chat layout: ``factory(config) -> (model, tokenizer)``."""

    default_checkpoint: str | None = None


@attrs.frozen
class MetricSpec(_Component):
    """``factory(predictions, references, *, protocol, labels=None, **options) -> MetricResult``."""

    higher_is_better: bool = True
    unit: str = attrs.field(default="fraction", validator=one_of(METRIC_UNITS))


@attrs.frozen
class ExtractorSpec(_Component):
    """Turns a raw model output into the answer a metric scores."""


@attrs.frozen
class JudgeSpec(_Component):
    """An LLM-as-judge back-end: ``factory(**options) -> Judge``."""


@attrs.frozen
class TTSSpec(_Component):
    """A speech synthesis engine: ``factory(**options) -> engine`` with ``voices()`` and
    ``synthesize(text, voice=..., rate=..., pitch=...) -> (float32 samples, sample_rate)``."""


@attrs.frozen
class ModelSpec(_Component):
    """A kind of speech-language model (``--model KIND:REFERENCE``): ``factory(reference, **options)
    -> llaso_core.models.SpeechModel``. ``modalities``: the query layouts it can take at most (a loaded
    model may narrow them); ``batched``: whether it answers several queries in one forward pass."""

    modalities: tuple[str, ...] = attrs.field(default=QUERY_MODALITIES, converter=as_tuple,
                                              validator=tuple_of(str, non_empty=True, unique=True))
    batched: bool = True
    reference: str = "PATH"  # what follows ``KIND:`` (shown by ``llaso models``)
    # ``"module:attr"`` of ``convert(source, out: Path, **options) -> Path`` (``llaso convert KIND``), if any
    converter: str | None = attrs.field(default=None, validator=attrs.validators.optional(lazy_ref))
