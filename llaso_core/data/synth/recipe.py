"""What a mini-corpus recipe works with: a generator ``(Context) -> Item`` per task.

A plugin registers one :class:`~llaso_core.specs.RecipeSpec` per task whose ``factory`` names such
a generator (``llaso_register_recipes``). The generator gets a :class:`Context` (the task, the
source, the split, a seeded :class:`random.Random`, a balanced label dealer, and the sample's place in
its stream for content shared by consecutive samples) and returns an
:class:`Item`: the input (an audio recipe, see :mod:`llaso_core.data.synth.render`, and for a task
with a text input also that text), the target, the item key that train/eval disjointness is
checked on, and metadata. :mod:`.corpus` turns items into samples of each modality. The helpers
below build the common inputs (a spoken sentence by an espeak voice).
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import attrs

from llaso_core.data.synth import text, voices
from llaso_core.data.synth.render import Recipe
from llaso_core.specs import LabelSet, Source, TaskSpec


@attrs.frozen
class Item:
    """One task input and its answer, before it is given a modality."""

    target: str
    key: str  #: identity of the content (sentence, note parameters, ...); disjoint across splits
    audio: Recipe  #: the input clip
    text: str | None = None  #: the input as text, for layouts with a text input (AQA ``at``)
    spoken: str | None = None  #: transcript of the clip when the clip is itself a request
    request: bool = False  #: the clip carries the whole request (AQA): no spoken instruction first
    metadata: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Context:
    task: TaskSpec
    source: Source
    split: str
    rng: random.Random
    deal: Callable[[Sequence[str]], str]  #: balanced draw from labels (per task, source, split)
    index: int = 0  #: the sample's number within its task, source, split and modality
    stream: str = ""  #: the corpus seed, task, source, split and modality: what :meth:`shared_rng` is keyed by

    @property
    def label_set(self) -> LabelSet:
        return self.task.label_set(self.source.label_set)

    def shared_rng(self, group: int) -> random.Random:
        """A generator shared by ``group`` consecutive samples of the stream (``index // group``): what
        is drawn from it they have in common. A contrast task draws its content here, so that only the
        label tells the samples of a group apart (SSD: the same sentence and voice, real and fake)."""
        return random.Random(f"{self.stream}|{self.index // group}")


Generator = Callable[[Context], Item]


def speech(sentence: str, voice: str, rate: int, pitch: int, **effects: Any) -> Recipe:
    """Audio recipe: ``sentence`` spoken by an espeak ``voice`` at ``rate`` words/min and espeak
    ``pitch`` (0-99), with optional render effects (``peak``, ``tremolo``, ``contour``, ...)."""
    return {"kind": "speech", "text": sentence, "voice": voice, "rate": int(rate), "pitch": int(pitch),
            **{k: v for k, v in effects.items() if v}}


def content_voice(rng: random.Random, roster: Sequence[str] = voices.CONTENT_VOICES,
                  pitch: tuple[int, int] = (40, 60)) -> tuple[str, int, int]:
    """A random (voice, rate, pitch) for speech whose content, not its speaker, matters."""
    return rng.choice(roster), rng.randint(*voices.SPEECH_RATE), rng.randint(*pitch)


def keyed(rng: random.Random, split: str, make: Callable[[], Any], key: Callable[[Any], str]) -> Any:
    """Draw ``make()`` until its key belongs to ``split`` (:func:`.text.split_of`)."""
    for _ in range(10000):
        value = make()
        if text.split_of(key(value)) == split:
            return value
    raise RuntimeError(f"no {split} item found")


def spoken_sentence(target: str, voice: str, rate: int, pitch: int, sentence: str, facts: dict[str, Any],
                    **effects: Any) -> Item:
    """An item whose input is ``sentence`` spoken as :func:`speech`; the sentence is its key."""
    return Item(target=target, key=sentence, audio=speech(sentence, voice, rate, pitch, **effects),
                metadata={"text": sentence, "voice": voice, "rate": rate, "pitch": pitch, **facts})
