"""What each task's synthetic samples are: a table from task id to an item generator.

A generator takes a :class:`Context` (the task, the source, the split, a seeded
:class:`random.Random` and a balanced label dealer) and returns an :class:`Item`: the input
(an audio recipe, see :mod:`llaso_core.data.synth.render`, and for AQA also the input as text),
the target, the item key that train/eval disjointness is checked on, and metadata. There is one
generator function per task family, parameterised per task; :mod:`.corpus` turns items into
samples of each modality.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import attrs

from llaso_core.data.synth import music, pronunciation, text, voices
from llaso_core.data.synth.dsp import hz_of
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

    @property
    def label_set(self) -> LabelSet:
        return self.task.label_set(self.source.label_set)


Generator = Callable[[Context], Item]


# -- shared pieces ---------------------------------------------------------------------------------
def _speech(sentence: str, voice: str, rate: int, pitch: int, **effects: Any) -> Recipe:
    return {"kind": "speech", "text": sentence, "voice": voice, "rate": int(rate), "pitch": int(pitch),
            **{k: v for k, v in effects.items() if v}}


def _content_voice(rng: random.Random, roster: Sequence[str] = voices.CONTENT_VOICES,
                   pitch: tuple[int, int] = (40, 60)) -> tuple[str, int, int]:
    return rng.choice(roster), rng.randint(*voices.SPEECH_RATE), rng.randint(*pitch)


def _keyed(rng: random.Random, split: str, make: Callable[[], Any], key: Callable[[Any], str]) -> Any:
    """Draw ``make()`` until its key belongs to ``split``."""
    for _ in range(10000):
        value = make()
        if text.split_of(key(value)) == split:
            return value
    raise RuntimeError(f"no {split} item found")


def _spoken_sentence(ctx: Context, target: str, voice: str, rate: int, pitch: int, sentence: str,
                     facts: dict[str, Any], **effects: Any) -> Item:
    return Item(target=target, key=sentence, audio=_speech(sentence, voice, rate, pitch, **effects),
                metadata={"text": sentence, "voice": voice, "rate": rate, "pitch": pitch, **facts})


# -- linguistic: ASR, PR ---------------------------------------------------------------------------
def transcription(target: str) -> Generator:
    """ASR (``target="text"``: the sentence) and PR (``"ipa"``: phonemizer's IPA of it)."""
    def generate(ctx: Context) -> Item:
        sentence = text.SENTENCES.draw(ctx.rng, ctx.split)
        voice, rate, pitch = _content_voice(ctx.rng)
        answer = sentence if target == "text" else text.ipa(sentence)
        return _spoken_sentence(ctx, answer, voice, rate, pitch, sentence, {})
    return generate


# -- speaker traits: SGC, AC, AR, SV ---------------------------------------------------------------
def _gender(ctx: Context, label: str) -> tuple[str, int, int, dict[str, Any]]:
    voice = ctx.rng.choice(voices.gender_voices(label))
    variant = voice.partition("+")[2]
    return (voice, ctx.rng.randint(*voices.SPEECH_RATE), ctx.rng.randint(*voices.GENDER_PITCH),
            {"gender": label, "variant_f0_hz": voices.MEASURED_F0[variant]})


def _accent_labels(ctx: Context) -> list[str]:
    mapping = voices.ACCENT_LABELS[ctx.label_set.name]
    return [label for label in ctx.label_set.labels if label in mapping.values()]


def _accent(ctx: Context, label: str) -> tuple[str, int, int, dict[str, Any]]:
    family = next(k for k, v in voices.ACCENT_LABELS[ctx.label_set.name].items() if v == label)
    voice = ctx.rng.choice(voices.accent_voices(family))
    return voice, ctx.rng.randint(150, 190), ctx.rng.randint(40, 60), {"accent": family}


#: age granularity per AR label set: label -> inclusive age range
AGE_GROUPS: dict[str, dict[str, tuple[int, int]]] = {
    "coarse": {"teens": (13, 19), "twenties": (20, 29), "thirties": (30, 39), "fourties": (40, 49),
               "fifties": (50, 59), "sixties": (60, 69), "seventies": (70, 79), "eighties": (80, 89),
               "nineties": (90, 99)},
    "medium": {"15-19": (15, 19), "20-24": (20, 24), "25-29": (25, 29), "30+": (30, 60)},
}


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
    c = next(c for c in voices.CHARACTERS if c.name == label)
    return c.voice, c.rate + ctx.rng.randint(-8, 8), c.pitch + ctx.rng.randint(-3, 3), {"speaker": c.name}


SPEAKER_TRAITS = {"gender": _gender, "accent": _accent, "character": _character}


def speaker_trait(trait: str) -> Generator:
    """SGC (gender), AC (accent), AR (age) and SV (character): a sentence spoken by a voice
    chosen for the label."""
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
        return _spoken_sentence(ctx, label, voice, rate, pitch, sentence, facts, **effects)
    return generate


# -- emotion: ER, EIE --------------------------------------------------------------------------------
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
        return _spoken_sentence(ctx, label, voice, rate, pitch, sentence, {**facts, "peak": peak}, **effects)
    return generate


# -- SSD ---------------------------------------------------------------------------------------------
def synthetic_speech() -> Generator:
    """SSD: real = the clean espeak signal; fake = the same re-synthesised by Griffin-Lim from
    its mel spectrogram."""
    def generate(ctx: Context) -> Item:
        label = ctx.deal(ctx.label_set.labels)
        sentence = text.SENTENCES.draw(ctx.rng, ctx.split)
        voice, rate, pitch = _content_voice(ctx.rng)
        fake = label == "fake"
        return _spoken_sentence(ctx, label, voice, rate, pitch, sentence, {"griffin_lim": fake},
                                griffin_lim=fake, seed=ctx.rng.randrange(2 ** 31) if fake else 0)
    return generate


# -- pronunciation: PSWL, PSSL -------------------------------------------------------------------------
def pronunciation_scoring(level: str) -> Generator:
    """PSWL (``level="word"``) and PSSL (``"sentence"``): a learner reading (see
    :mod:`.pronunciation`), scored from its degradations."""
    def generate(ctx: Context) -> Item:
        sentence = text.LEARNER_SENTENCES.draw(ctx.rng, ctx.split)
        reading = pronunciation.read(sentence, ctx.rng.randrange(4), ctx.rng)
        voice, rate, pitch = _content_voice(ctx.rng)
        rate = min(rate, 175)
        target = pronunciation.word_target(reading) if level == "word" else pronunciation.sentence_target(reading)
        return Item(target=target, key=sentence, audio=reading.recipe(voice, rate, pitch),
                    metadata={"text": sentence, "voice": voice, "rate": rate, "pitch": pitch, **reading.facts()})
    return generate


# -- SCR -----------------------------------------------------------------------------------------------
def keyword() -> Generator:
    """SCR: one command word in a one-second clip; the item is (word, voice, rate, pitch)."""
    def generate(ctx: Context) -> Item:
        word = ctx.deal(text.COMMAND_WORDS)
        voice, rate, pitch = _keyed(ctx.rng, ctx.split,
                                    lambda: _content_voice(ctx.rng, pitch=(30, 70)),
                                    lambda v: f"{word}|{v[0]}|{v[1]}|{v[2]}")
        lead = round(ctx.rng.uniform(0.05, 0.3), 3)
        return Item(target=word, key=f"{word}|{voice}|{rate}|{pitch}",
                    audio={"kind": "pad", "part": _speech(word, voice, rate, pitch), "lead": lead, "total": 1.0},
                    metadata={"text": word, "voice": voice, "rate": rate, "pitch": pitch, "lead_s": lead})
    return generate


# -- IP, EE --------------------------------------------------------------------------------------------
def spoken_request(output: str) -> Generator:
    """IP (``output="intent"``) and EE (``"entities"``: ``intent [type : value] ...``) from
    SLURP-like request templates."""
    def generate(ctx: Context) -> Item:
        request = text.REQUESTS.draw(ctx.rng, ctx.split)
        voice, rate, pitch = _content_voice(ctx.rng)
        target = request.intent if output == "intent" else request.entity_target
        return _spoken_sentence(ctx, target, voice, rate, pitch, request.text,
                                {"intent": request.intent, "entities": [list(e) for e in request.entities]})
    return generate


# -- VSC -----------------------------------------------------------------------------------------------
def vocal_sound() -> Generator:
    """VSC: a synthetic vocal sound (see :mod:`.vocal`); the item is (sound, seed)."""
    def generate(ctx: Context) -> Item:
        sound = ctx.deal(ctx.label_set.labels)
        seed = _keyed(ctx.rng, ctx.split, lambda: ctx.rng.randrange(2 ** 31), lambda s: f"{sound}|{s}")
        return Item(target=sound, key=f"{sound}|{seed}", audio={"kind": "vocal", "sound": sound, "seed": seed},
                    metadata={"sound": sound, "seed": seed})
    return generate


# -- notes: IC, ISC, PP, VC ----------------------------------------------------------------------------
def note_attribute(attribute: str) -> Generator:
    """IC (family), ISC (source), PP (MIDI pitch), VC (velocity) of a synthetic note; the dealt
    attribute is balanced, the others random; the item is (family, source, pitch, velocity)."""
    def generate(ctx: Context) -> Item:
        rng = ctx.rng

        def make() -> music.Note:
            family = ctx.deal(music.FAMILIES) if attribute == "family" else rng.choice(music.FAMILIES)
            source = ctx.deal(music.SOURCES) if attribute == "source" else rng.choice(music.SOURCES)
            velocity = (int(ctx.deal([str(v) for v in music.VELOCITIES])) if attribute == "velocity"
                        else rng.choice(music.VELOCITIES))
            return music.Note(family, source, rng.randint(*music.MIDI_RANGE[family]), velocity,
                              rng.randrange(2 ** 31))

        note = make()
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


# -- AQA -----------------------------------------------------------------------------------------------
def question_answering() -> Generator:
    """AQA: a question with an exact answer, spoken (and kept as text for ``at``)."""
    def generate(ctx: Context) -> Item:
        question = text.QUESTIONS.draw(ctx.rng, ctx.split)
        voice, rate, pitch = _content_voice(ctx.rng)
        return Item(target=question.answer, key=question.text, audio=_speech(question.text, voice, rate, pitch),
                    text=question.text, spoken=question.text, request=True,
                    metadata={"text": question.text, "kind": question.kind, "voice": voice, "rate": rate,
                              "pitch": pitch})
    return generate


# -- the table -----------------------------------------------------------------------------------------
@attrs.frozen
class TaskRecipe:
    generate: Generator
    #: share of the task's samples per modality (normalised over the modalities the task lists)
    modality_weights: dict[str, float] = attrs.field(factory=lambda: {"ta": 0.7, "pa": 0.3, "at": 0.3})


TASKS: dict[str, TaskRecipe] = {
    "ASR": TaskRecipe(transcription("text")),
    "PR": TaskRecipe(transcription("ipa")),
    "AQA": TaskRecipe(question_answering(), {"pa": 1.0, "ta": 1.0, "at": 1.0}),
    "SGC": TaskRecipe(speaker_trait("gender")),
    "AC": TaskRecipe(speaker_trait("accent")),
    "AR": TaskRecipe(speaker_trait("age")),
    "SV": TaskRecipe(speaker_trait("character")),
    "ER": TaskRecipe(emotion("category")),
    "EIE": TaskRecipe(emotion("intensity")),
    "SSD": TaskRecipe(synthetic_speech()),
    "PSWL": TaskRecipe(pronunciation_scoring("word")),
    "PSSL": TaskRecipe(pronunciation_scoring("sentence")),
    "SCR": TaskRecipe(keyword()),
    "IP": TaskRecipe(spoken_request("intent")),
    "EE": TaskRecipe(spoken_request("entities")),
    "VSC": TaskRecipe(vocal_sound()),
    "IC": TaskRecipe(note_attribute("family")),
    "ISC": TaskRecipe(note_attribute("source")),
    "PP": TaskRecipe(note_attribute("midi")),
    "VC": TaskRecipe(note_attribute("velocity")),
}
