"""Recipes of the emotion tasks: ER (category) and EIE (intensity / sentiment) as prosody profiles."""

from __future__ import annotations

from typing import Any

import attrs

from llaso_core.data.synth import text, voices
from llaso_core.data.synth.recipe import Context, Generator, Item, spoken_sentence


@attrs.frozen
class Profile:
    """Prosody of an emotion: rate (wpm), espeak pitch, peak level, pitch-range widening
    (time-warp depth at ``contour_hz``), tremolo depth (7 Hz) and saturation drive."""

    rate: float
    pitch: float
    peak: float
    contour: float = 0.0
    contour_hz: float = 2.0
    tremolo: float = 0.0
    drive: float = 0.0

    def scaled(self, k: float) -> "Profile":
        """Neutral + k·(self − neutral): the emotion at intensity k."""
        n = EMOTIONS["neutrality"]
        mix = lambda a, b: a + k * (b - a)  # noqa: E731
        return Profile(mix(n.rate, self.rate), mix(n.pitch, self.pitch), mix(n.peak, self.peak),
                       mix(n.contour, self.contour), self.contour_hz, mix(n.tremolo, self.tremolo),
                       mix(n.drive, self.drive))


EMOTIONS: dict[str, Profile] = {
    "neutrality": Profile(170, 50, 0.55),
    "anger": Profile(205, 62, 0.95, contour=0.05, contour_hz=3.0, drive=3.0),
    "happiness": Profile(190, 72, 0.75, contour=0.12, contour_hz=2.0),
    "sadness": Profile(120, 30, 0.28),
    "fear": Profile(215, 78, 0.45, contour=0.03, contour_hz=4.0, tremolo=0.45),
    "disgust": Profile(135, 38, 0.6, contour=0.07, contour_hz=1.0),
    "surprise": Profile(180, 88, 0.8, contour=0.18, contour_hz=1.5),
}
EMOTION_ALIASES = {"joy": "happiness"}  #: MELD's name -> the profile
INTENSITY = {"unspecified": 0.0, "low": 0.35, "medium": 0.7, "high": 1.0}  #: CREMA-D EIE
SENTIMENT = {"positive": ("happiness", "surprise"), "neutral": ("neutrality",),
             "negative": ("anger", "sadness", "disgust", "fear")}  #: MELD EIE


def emotion(kind: str) -> Generator:
    """ER (``kind="category"``: the emotion's profile) and EIE (``"intensity"``: CREMA-D
    intensity = a random emotion scaled by 0/0.35/0.7/1 ("unspecified" = neutral), MELD
    sentiment = a profile of that polarity)."""
    def generate(ctx: Context) -> Item:
        label = ctx.deal(ctx.label_set.labels)
        facts: dict[str, Any] = {}
        if kind == "category":
            profile = EMOTIONS[EMOTION_ALIASES.get(label, label)]
            facts["emotion"] = EMOTION_ALIASES.get(label, label)
        elif label in INTENSITY:
            name = ctx.rng.choice(("anger", "disgust", "fear", "happiness", "sadness"))
            profile = EMOTIONS[name].scaled(INTENSITY[label])
            facts.update(emotion=name if INTENSITY[label] else "neutrality", intensity=INTENSITY[label])
        else:
            name = ctx.rng.choice(SENTIMENT[label])
            profile, facts["emotion"] = EMOTIONS[name], name
        rng = ctx.rng
        rate = int(round(profile.rate + rng.randint(-5, 5)))
        pitch = int(min(99, max(0, round(profile.pitch + rng.randint(-3, 3)))))
        peak = round(min(0.98, profile.peak * rng.uniform(0.92, 1.08)), 3)
        sentence = text.SENTENCES.draw(rng, ctx.split)
        effects = {"peak": peak,
                   "contour": [round(profile.contour, 4), profile.contour_hz] if profile.contour > 0 else None,
                   "tremolo": [round(profile.tremolo, 4), 7.0] if profile.tremolo > 0 else None,
                   "drive": round(profile.drive, 3)}
        voice = rng.choice(voices.EXPRESSIVE_VOICES)
        return spoken_sentence(label, voice, rate, pitch, sentence, {**facts, "peak": peak}, **effects)
    return generate


ER, EIE = emotion("category"), emotion("intensity")
