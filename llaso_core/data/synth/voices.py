"""The espeak-ng voice roster of the synthetic corpus: who speaks, with which gender and accent.

A voice id is ``<language>[+<variant>]`` (see :mod:`llaso_core.tts.espeak`): the *language*
voice decides the accent (its letter-to-sound rules and vowels), the *variant* the timbre and
the base pitch. Genders come from the variant, and were checked by measuring f0 (YIN, median
over voiced frames, ``en-us`` base, espeak pitch 50, one 3.5 s sentence):

==========  ===========================================================================
male        default 104 Hz, m1 98, m3 110, m7 109, Michael 111, john 105, paul 88,
            david 76, quincy 86, Andy 97, Gene 96, Lee 97, robert 103
female      f1 181, f2 197, f3 215, f4 182, f5 208, Annie 249, linda 230, steph 185,
            anika 275, Alicia 256, Andrea 248, belinda 230, grandma 217
left out    zac (labelled male by espeak, measured 356 Hz), ed (133 Hz, the highest
            "male"), aunty (173 Hz, the lowest "female": 141 Hz at pitch 38), caleb and
            whisper/whisperf (unvoiced: no f0)
==========  ===========================================================================

espeak's pitch parameter (0-99, 50 default) shifts f0 by about -27 %..+65 % (``en-us``: 75 Hz
at 0, 103 at 50, 171 at 99; ``en-us+f3``: 162, 217, 340), so gender samples keep pitch within
:data:`GENDER_PITCH`, where the two ranges stay apart: measured at the extremes, every male
variant is at most 121 Hz at pitch 62 and every female one at least 160 Hz at pitch 38. The
language voices shift f0 by under 4 %. :func:`measure_f0` re-measures a voice.
(``en-gb+f2`` reported as "heard as male" was a voice-selection bug of an older wrapper: with
the id resolved it measures ~198 Hz.)

Accents: English language voices give american (``en-us``, ``en-us-nyc``), british
(``en-gb``, ``en-gb-x-rp``, ``en-gb-x-gbclan``, ``en-gb-x-gbcwmd``) and scottish
(``en-gb-scotland``). Three non-English voices reading English text with their own
letter-to-sound rules stand in for foreign accents: german (``de``), welsh (``cy``), south
african (``af``, Afrikaans). The Indian-language voices (``hi``, ``ml``, ``te``, ``bn``,
``or``) switch to the British English voice for Latin text, so they add nothing and are not
used; ``en-029`` (Caribbean) has no label in any accent set.
"""

from __future__ import annotations

import math

#: English language voices by accent family
ENGLISH_BASES: dict[str, tuple[str, ...]] = {
    "american": ("en-us", "en-us-nyc"),
    "british": ("en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"),
    "scottish": ("en-gb-scotland",),
}
#: non-English voices reading English text: accent proxies
FOREIGN_BASES: dict[str, tuple[str, ...]] = {
    "german": ("de",),
    "welsh": ("cy",),
    "south african": ("af",),
}
ACCENT_BASES: dict[str, tuple[str, ...]] = {**ENGLISH_BASES, **FOREIGN_BASES}

#: variants by gender (f0 measured, see the module docstring); "" = the language voice itself
MALE_VARIANTS: tuple[str, ...] = ("", "m1", "m3", "m7", "Michael", "john", "paul", "david", "quincy",
                                  "Andy", "Gene", "Lee", "robert")
FEMALE_VARIANTS: tuple[str, ...] = ("f1", "f2", "f3", "f4", "f5", "Annie", "linda", "steph", "anika",
                                    "Alicia", "Andrea", "belinda", "grandma")
VARIANTS: dict[str, tuple[str, ...]] = {"male": MALE_VARIANTS, "female": FEMALE_VARIANTS}

#: measured median f0 (Hz) of each variant on ``en-us`` at pitch 50
MEASURED_F0: dict[str, float] = {
    "": 104, "m1": 98, "m3": 110, "m7": 109, "Michael": 111, "john": 105, "paul": 88, "david": 76,
    "quincy": 86, "Andy": 97, "Gene": 96, "Lee": 97, "robert": 103,
    "f1": 181, "f2": 197, "f3": 215, "f4": 182, "f5": 208, "Annie": 249, "linda": 230, "steph": 185,
    "anika": 275, "Alicia": 256, "Andrea": 248, "belinda": 230, "grandma": 217,
}

GENDER_PITCH = (38, 62)  #: espeak pitch range for gender samples (keeps the genders apart)
SPEECH_RATE = (150, 200)  #: words/min range for ordinary content speech


def voice_id(base: str, variant: str = "") -> str:
    return f"{base}+{variant}" if variant else base


def gender_of(voice: str) -> str:
    """``male`` or ``female`` from a roster voice id (by its variant)."""
    variant = voice.partition("+")[2]
    if variant in FEMALE_VARIANTS:
        return "female"
    if variant in MALE_VARIANTS:
        return "male"
    raise KeyError(f"voice {voice!r} is not in the roster")


def gender_voices(gender: str) -> tuple[str, ...]:
    """Every English base × every variant of ``gender``."""
    return tuple(voice_id(b, v) for bases in ENGLISH_BASES.values() for b in bases for v in VARIANTS[gender])


def accent_voices(accent: str) -> tuple[str, ...]:
    """The accent's language voices × every male and female variant."""
    return tuple(voice_id(b, v) for b in ACCENT_BASES[accent] for v in MALE_VARIANTS + FEMALE_VARIANTS)


#: every English voice of both genders: content speech (ASR, commands, questions, ...)
CONTENT_VOICES: tuple[str, ...] = gender_voices("male") + gender_voices("female")

#: a few clear voices that speak instructions (pa, at): independent of every label
INSTRUCTION_VOICES: tuple[str, ...] = ("en-us", "en-us+f3", "en-gb-x-rp", "en-gb+f4", "en-us+m3", "en-us+linda")

#: a small fixed set for emotion and age, whose cues are relative pitch/rate: 2 male, 2 female
EXPRESSIVE_VOICES: tuple[str, ...] = ("en-us", "en-us+f3", "en-gb+m3", "en-gb+f4")


def measure_f0(voice: str, *, pitch: int = 50, rate: int = 175,
               text: str = "the quick brown fox jumps over the lazy dog near the river bank") -> float:
    """Median f0 (Hz) of ``text`` spoken by ``voice`` (synthesised now, at 16 kHz)."""
    from llaso_core.data.synth.dsp import median_f0, to_rate
    from llaso_core.tts.espeak import EspeakEngine

    synthesis = EspeakEngine().synthesize(text, voice=voice, pitch=pitch, rate=rate)
    f0 = median_f0(to_rate(synthesis.samples, synthesis.sample_rate), fmin=50, fmax=600)
    return f0 if math.isfinite(f0) else float("nan")
