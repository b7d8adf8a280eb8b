"""Recipes of the speaker-trait tasks: SGC (gender), AC (accent), AR (age), SV (character) -- a
sentence spoken by a voice chosen for the label."""

from __future__ import annotations

from typing import Any

import attrs

from llaso_core.data.synth import text, voices
from llaso_core.data.synth.recipe import Context, Generator, Item, spoken_sentence

#: accent family -> label, per accent label set of the AC task (only labels we can realise)
ACCENT_LABELS: dict[str, dict[str, str]] = {
    "vctk": {"american": "american", "british": "british", "scottish": "scottish",
             "south african": "south africa"},
    "accentdb": {"american": "american", "british": "british", "welsh": "welsh"},
    "common-voice": {"american": "united states english", "british": "england english",
                     "scottish": "scottish english", "german": "german english",
                     "welsh": "welsh english", "south african": "south african accent"},
}


@attrs.frozen
class Character:
    """A MELD-like speaker: one distinct voice with its own pitch and rate."""

    name: str
    voice: str
    pitch: int
    rate: int


#: the six speakers of SV (``meld_SV``): distinct timbre, pitch and rate each
CHARACTERS: tuple[Character, ...] = (
    Character("joey", "en-us-nyc+Andy", 40, 165),
    Character("ross", "en-us+m3", 64, 170),
    Character("chandler", "en-us+Michael", 42, 205),
    Character("rachel", "en-us+f3", 54, 178),
    Character("phoebe", "en-us+Annie", 64, 158),
    Character("monica", "en-us+f4", 46, 195),
)


#: age granularity per AR label set: label -> inclusive age range
AGE_GROUPS: dict[str, dict[str, tuple[int, int]]] = {
    "coarse": {"teens": (13, 19), "twenties": (20, 29), "thirties": (30, 39), "fourties": (40, 49),
               "fifties": (50, 59), "sixties": (60, 69), "seventies": (70, 79), "eighties": (80, 89),
               "nineties": (90, 99)},
    "medium": {"15-19": (15, 19), "20-24": (20, 24), "25-29": (25, 29), "30+": (30, 60)},
}


def _gender(ctx: Context, label: str) -> tuple[str, int, int, dict[str, Any]]:
    voice = ctx.rng.choice(voices.gender_voices(label))
    variant = voice.partition("+")[2]
    return (voice, ctx.rng.randint(*voices.SPEECH_RATE), ctx.rng.randint(*voices.GENDER_PITCH),
            {"gender": label, "variant_f0_hz": voices.MEASURED_F0[variant]})


def _accent_labels(ctx: Context) -> list[str]:
    mapping = ACCENT_LABELS[ctx.label_set.name]
    return [label for label in ctx.label_set.labels if label in mapping.values()]


def _accent(ctx: Context, label: str) -> tuple[str, int, int, dict[str, Any]]:
    family = next(k for k, v in ACCENT_LABELS[ctx.label_set.name].items() if v == label)
    voice = ctx.rng.choice(voices.accent_voices(family))
    return voice, ctx.rng.randint(150, 190), ctx.rng.randint(40, 60), {"accent": family}


def age_voice(age: int) -> tuple[int, int, float]:
    """Monotone age proxy: (rate words/min, espeak pitch, tremolo depth) -- slower, lower and
    shakier with age: rate 235 − 1.5·(age−13), pitch 80 − 0.62·(age−13), tremolo from 60."""
    rate = round(235 - 1.5 * (age - 13))
    pitch = round(80 - 0.62 * (age - 13))
    shake = round(max(0.0, (age - 60) / 40 * 0.3), 3)
    return rate, pitch, shake


def _age_labels(ctx: Context) -> list[str]:
    return [] if ctx.label_set.kind == "numeric" else list(AGE_GROUPS[ctx.label_set.name])


def _age(ctx: Context, label: str | None) -> tuple[str, int, int, dict[str, Any], str, dict[str, Any]]:
    if label is None:  # fine: an integer age in the label set's range
        low, high = ctx.label_set.value_range  # type: ignore[misc]
        age = ctx.rng.randint(int(low), int(high))
        label = str(age)
    else:
        age = ctx.rng.randint(*AGE_GROUPS[ctx.label_set.name][label])
    rate, pitch, shake = age_voice(age)
    effects = {"tremolo": [shake, 5.5]} if shake else {}
    return ctx.rng.choice(voices.EXPRESSIVE_VOICES), rate, pitch, {"age": age}, label, effects


def _character(ctx: Context, label: str) -> tuple[str, int, int, dict[str, Any]]:
    c = next(c for c in CHARACTERS if c.name == label)
    return c.voice, c.rate + ctx.rng.randint(-8, 8), c.pitch + ctx.rng.randint(-3, 3), {"speaker": c.name}


SPEAKER_TRAITS = {"gender": _gender, "accent": _accent, "character": _character}


def speaker_trait(trait: str) -> Generator:
    """A sentence spoken by a voice chosen for the dealt label of ``trait`` (gender, accent, age,
    character)."""
    def generate(ctx: Context) -> Item:
        sentence = text.SENTENCES.draw(ctx.rng, ctx.split)
        effects: dict[str, Any] = {}
        if trait == "age":
            labels = _age_labels(ctx)
            voice, rate, pitch, facts, label, effects = _age(ctx, ctx.deal(labels) if labels else None)
        else:
            labels = _accent_labels(ctx) if trait == "accent" else list(ctx.label_set.labels)
            label = ctx.deal(labels)
            voice, rate, pitch, facts = SPEAKER_TRAITS[trait](ctx, label)
        return spoken_sentence(label, voice, rate, pitch, sentence, facts, **effects)
    return generate


SGC, AC, AR, SV = (speaker_trait(t) for t in ("gender", "accent", "age", "character"))
