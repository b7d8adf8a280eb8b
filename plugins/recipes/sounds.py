"""Recipes of the non-speech tasks: VSC (vocal sounds) and IC, ISC, PP, VC (synthetic notes)."""

from __future__ import annotations

import attrs

from llaso_core.data.synth import music, text
from llaso_core.data.synth.dsp import hz_of
from llaso_core.data.synth.recipe import Context, Generator, Item, keyed


def vocal_sound(ctx: Context) -> Item:
    """VSC: a synthetic vocal sound (see :mod:`llaso_core.data.synth.vocal`); the item is (sound, seed)."""
    sound = ctx.deal(ctx.label_set.labels)
    seed = keyed(ctx.rng, ctx.split, lambda: ctx.rng.randrange(2 ** 31), lambda s: f"{sound}|{s}")
    return Item(target=sound, key=f"{sound}|{seed}", audio={"kind": "vocal", "sound": sound, "seed": seed},
                metadata={"sound": sound, "seed": seed})


def note_attribute(attribute: str) -> Generator:
    """IC (family), ISC (source), PP (MIDI pitch), VC (velocity) of a synthetic note; the dealt
    attribute is balanced, the others random; the item is (family, source, pitch, velocity)."""
    def generate(ctx: Context) -> Item:
        rng = ctx.rng
        family = ctx.deal(music.FAMILIES) if attribute == "family" else rng.choice(music.FAMILIES)
        source = ctx.deal(music.SOURCES) if attribute == "source" else rng.choice(music.SOURCES)
        velocity = (int(ctx.deal([str(v) for v in music.VELOCITIES])) if attribute == "velocity"
                    else rng.choice(music.VELOCITIES))
        note = music.Note(family, source, rng.randint(*music.MIDI_RANGE[family]), velocity, rng.randrange(2 ** 31))
        while text.split_of(note.key) != ctx.split:  # keep the dealt label, redraw the rest
            note = attrs.evolve(note, midi=rng.randint(*music.MIDI_RANGE[note.family]),
                                velocity=note.velocity if attribute == "velocity" else rng.choice(music.VELOCITIES),
                                source=note.source if attribute == "source" else rng.choice(music.SOURCES))
        target = {"family": note.family, "source": note.source, "midi": str(note.midi),
                  "velocity": str(note.velocity)}[attribute]
        return Item(target=target, key=note.key,
                    audio={"kind": "note", **attrs.asdict(note)},
                    metadata={"family": note.family, "source": note.source, "midi": note.midi,
                              "velocity": note.velocity, "f0_hz": round(hz_of(note.midi), 3), "seed": note.seed})
    return generate


IC, ISC, PP, VC = (note_attribute(a) for a in ("family", "source", "midi", "velocity"))
