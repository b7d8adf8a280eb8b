"""SRE's mini-corpus recipe (``llaso data synth --tasks SRE``): a sentence spoken by an espeak voice
at a rate drawn from the label's band. Imported only when samples are made."""

from __future__ import annotations

from llaso_core.data.synth import text
from llaso_core.data.synth.recipe import Context, Item, content_voice, spoken_sentence

#: words per minute of each label (espeak-ng ``rate``); the bands do not touch
RATES = {"slow": (90, 120), "normal": (160, 185), "fast": (250, 290)}


def speaking_rate(ctx: Context) -> Item:
    label = ctx.deal(ctx.label_set.labels)  # balanced over slow / normal / fast
    sentence = text.SENTENCES.draw(ctx.rng, ctx.split)  # held-out sentences for eval
    voice, _, pitch = content_voice(ctx.rng)
    rate = ctx.rng.randint(*RATES[label])
    return spoken_sentence(label, voice, rate, pitch, sentence, {"words_per_minute": rate})
