"""What a speech synthesis engine offers (paper Appendix H, vocal style mixing).

An engine lists its :class:`Voice` objects and turns text into a :class:`Synthesis`
(float32 mono samples at the engine's sample rate). ``name`` and ``version`` identify the
engine in cache keys (:mod:`llaso_core.tts.cache`): change ``version`` whenever the same
arguments would give different audio.

This module is import-light (numpy and attrs only); engines import their back-ends lazily.
"""

from __future__ import annotations

import abc
import difflib
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
import numpy as np

GENDERS = ("male", "female")


def _gender(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and value not in GENDERS:
        raise ValueError(f"Voice.{attribute.name}: {value!r} is not one of {GENDERS} or None")


def _non_empty(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{type(instance).__name__}.{attribute.name}: must be a non-empty string, got {value!r}")


@attrs.frozen
class Voice:
    """One voice of an engine. ``id`` is what :meth:`TTSEngine.synthesize` accepts."""

    id: str = attrs.field(validator=_non_empty)
    language: str = attrs.field(validator=_non_empty)
    gender: str | None = attrs.field(default=None, validator=_gender)
    accent: str | None = None
    description: str = ""


def _samples(value: Any) -> np.ndarray:
    array = np.ascontiguousarray(value, dtype=np.float32)
    if array.ndim != 1:
        raise ValueError(f"Synthesis.samples: expected mono (1-D) audio, got shape {array.shape}")
    return array


@attrs.frozen(eq=False)
class Synthesis:
    """Synthesised audio: float32 mono ``samples`` in [-1, 1] at ``sample_rate`` Hz, with the
    voice and the effective rate (words/min) and pitch (engine scale) that produced it.

    Unpacks as ``samples, sample_rate = synthesis`` (the shape :class:`~llaso_core.specs.TTSSpec`
    documents)."""

    samples: np.ndarray = attrs.field(converter=_samples)
    sample_rate: int = attrs.field(converter=int)
    voice: Voice
    rate: int | None = None
    pitch: int | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    def __iter__(self) -> Iterator[Any]:
        return iter((self.samples, self.sample_rate))


class UnknownVoiceError(ValueError):
    """A voice id the engine does not know; the message lists close matches and valid ids."""

    def __init__(self, engine: str, voice: str, valid: Iterable[str], hint: str = "") -> None:
        valid = list(valid)
        close = difflib.get_close_matches(voice, valid, n=3, cutoff=0.6)
        message = f"unknown {engine} voice {voice!r}"
        if close:
            message += f"; did you mean {', '.join(repr(c) for c in close)}?"
        shown = ", ".join(valid[:8])
        more = f", ... ({len(valid)} in all; see voices())" if len(valid) > 8 else ""
        message += f" Valid voices include: {shown}{more}."
        if hint:
            message += f" {hint}"
        super().__init__(message)
        self.engine = engine
        self.voice = voice


def check_text(text: Any) -> str:
    """The text to speak, or a ``ValueError`` naming the problem (not a string, or empty)."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"text is empty ({text!r}): nothing to synthesise")
    return text


class TTSEngine(abc.ABC):
    """Base class of speech synthesis engines (the object a ``TTSSpec`` factory returns)."""

    #: engine name, part of cache keys
    name: str = ""

    @property
    @abc.abstractmethod
    def version(self) -> str:
        """Engine (and data) version, part of cache keys."""

    @abc.abstractmethod
    def voices(self) -> list[Voice]:
        """Every voice the engine offers."""

    @abc.abstractmethod
    def synthesize(self, text: str, *, voice: str | Voice, rate: int | None = None,
                   pitch: int | None = None) -> Synthesis:
        """Speak ``text`` with ``voice``; ``rate``/``pitch`` None means the engine default."""

    def voice(self, voice: str | Voice) -> Voice:
        """The :class:`Voice` behind an id (or the voice itself); :class:`UnknownVoiceError` if unknown."""
        wanted = voice.id if isinstance(voice, Voice) else voice
        known = self.voices()
        for candidate in known:
            if candidate.id == wanted:
                return candidate
        raise UnknownVoiceError(self.name or type(self).__name__, str(wanted), [v.id for v in known])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
