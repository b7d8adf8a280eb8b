"""Recipes of the tasks about what is said: ASR, PR, AQA, SSD, PSWL, PSSL, SCR, IP, EE."""

from __future__ import annotations

from llaso_core.data.synth import text
from llaso_core.data.synth.recipe import Context, Generator, Item, content_voice, keyed, speech, spoken_sentence
from llaso_plugins.recipes import content, pronunciation


def transcription(target: str) -> Generator:
    """ASR (``target="text"``: the sentence) and PR (``"ipa"``: phonemizer's IPA of it)."""
    def generate(ctx: Context) -> Item:
        sentence = text.SENTENCES.draw(ctx.rng, ctx.split)
        voice, rate, pitch = content_voice(ctx.rng)
        answer = sentence if target == "text" else text.ipa(sentence)
        return spoken_sentence(answer, voice, rate, pitch, sentence, {})
    return generate


def question_answering(ctx: Context) -> Item:
    """AQA: a question with an exact answer, spoken (and kept as text for ``at``)."""
    question = content.QUESTIONS.draw(ctx.rng, ctx.split)
    voice, rate, pitch = content_voice(ctx.rng)
    return Item(target=question.answer, key=question.text, audio=speech(question.text, voice, rate, pitch),
                text=question.text, spoken=question.text, request=True,
                metadata={"text": question.text, "kind": question.kind, "voice": voice, "rate": rate,
                          "pitch": pitch})


def synthetic_speech(ctx: Context) -> Item:
    """SSD: real = the clean espeak signal; fake = the same re-synthesised by Griffin-Lim from its
    mel spectrogram. In contrast pairs: each sentence, voice, rate and pitch is spoken once real and
    once fake, so only the re-synthesis tells the labels apart (drawn independently, a model learnt
    which voices were "fake" in training instead of hearing the artefacts)."""
    labels = ctx.label_set.labels
    shared, label = ctx.shared_rng(len(labels)), labels[ctx.index % len(labels)]
    sentence = text.SENTENCES.draw(shared, ctx.split)
    voice, rate, pitch = content_voice(shared)
    fake = label == "fake"
    return spoken_sentence(label, voice, rate, pitch, sentence, {"griffin_lim": fake},
                           griffin_lim=fake, seed=ctx.rng.randrange(2 ** 31) if fake else 0)


def pronunciation_scoring(level: str) -> Generator:
    """PSWL (``level="word"``) and PSSL (``"sentence"``): a learner reading (see
    :mod:`.pronunciation`), scored from its degradations."""
    def generate(ctx: Context) -> Item:
        sentence = content.LEARNER_SENTENCES.draw(ctx.rng, ctx.split)
        reading = pronunciation.read(sentence, ctx.rng.randrange(4), ctx.rng)
        voice, rate, pitch = content_voice(ctx.rng)
        rate = min(rate, 175)
        target = pronunciation.word_target(reading) if level == "word" else pronunciation.sentence_target(reading)
        return Item(target=target, key=sentence, audio=reading.recipe(voice, rate, pitch),
                    metadata={"text": sentence, "voice": voice, "rate": rate, "pitch": pitch, **reading.facts()})
    return generate


def keyword(ctx: Context) -> Item:
    """SCR: one command word in a one-second clip; the item is (word, voice, rate, pitch)."""
    word = ctx.deal(content.COMMAND_WORDS)
    voice, rate, pitch = keyed(ctx.rng, ctx.split, lambda: content_voice(ctx.rng, pitch=(30, 70)),
                               lambda v: f"{word}|{v[0]}|{v[1]}|{v[2]}")
    lead = round(ctx.rng.uniform(0.05, 0.3), 3)
    return Item(target=word, key=f"{word}|{voice}|{rate}|{pitch}",
                audio={"kind": "pad", "part": speech(word, voice, rate, pitch), "lead": lead, "total": 1.0},
                metadata={"text": word, "voice": voice, "rate": rate, "pitch": pitch, "lead_s": lead})


def spoken_request(output: str) -> Generator:
    """IP (``output="intent"``) and EE (``"entities"``: ``intent [type : value] ...``) from
    SLURP-like request templates."""
    def generate(ctx: Context) -> Item:
        request = content.REQUESTS.draw(ctx.rng, ctx.split)
        voice, rate, pitch = content_voice(ctx.rng)
        target = request.intent if output == "intent" else request.entity_target
        return spoken_sentence(target, voice, rate, pitch, request.text,
                               {"intent": request.intent, "entities": [list(e) for e in request.entities]})
    return generate


ASR, PR = transcription("text"), transcription("ipa")
PSWL, PSSL = pronunciation_scoring("word"), pronunciation_scoring("sentence")
IP, EE = spoken_request("intent"), spoken_request("entities")
