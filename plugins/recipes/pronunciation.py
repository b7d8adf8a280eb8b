"""Pronunciation-scoring proxies for PSWL / PSSL: degrade a sentence word by word and derive
speechocean762-style scores (0-10) from the degradation, deterministically.

A learner has a skill level 0 (perfect) to 3 (poor) that sets how likely each degradation is:

* **accuracy** -- a word is mispronounced by 1-2 spelling substitutions that change its
  phonemes (th→d, v→b, w→v, r↔l, vowel swaps, ...; a substitution counts only if phonemizer's
  IPA of the word changes). Word accuracy = 10 − 3·substitutions (10, 7, 4).
* **stress** -- a word spoken with misplaced stress is rendered 20 espeak pitch steps lower
  and at 55 % of the normal level. Word stress = 5 for such a word, else 10.
* **fluency** -- the pause between words: level 0-3 = 0.05 / 0.3 / 0.6 / 0.9 s; sentence
  fluency = 10 − 2·level.

Word total = round((2·accuracy + stress) / 3); sentence accuracy = round(mean word accuracy),
prosodic = round(10 − 6·share of stress errors), total = round(mean(accuracy, prosodic,
fluency)); rounding is half-up. Targets use the release formats (:func:`word_target`,
:func:`sentence_target`).
"""

from __future__ import annotations

import math
import random

import attrs

from llaso_core.data.synth.text import capitalise, ipa

SUBSTITUTIONS = (("th", "d"), ("v", "b"), ("w", "v"), ("r", "l"), ("l", "r"), ("a", "e"), ("e", "i"),
                 ("i", "ee"), ("o", "u"), ("u", "o"), ("p", "b"), ("k", "g"), ("t", "d"), ("s", "sh"))
GAPS = (0.05, 0.3, 0.6, 0.9)  #: seconds between words per pause level
P_SUBSTITUTE = (0.0, 0.2, 0.4, 0.6)  #: per skill level
P_STRESS = (0.0, 0.15, 0.3, 0.5)
STRESS_PITCH_DROP = 20
STRESS_LEVEL = 0.55


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _apply(word: str, edits: list[tuple[int, str, str]]) -> str:
    """``word`` with non-overlapping (index, src, dst) edits, applied right to left."""
    for i, src, dst in sorted(edits, reverse=True):
        word = word[:i] + dst + word[i + len(src):]
    return word


def mispronounce(word: str, n: int, rng: random.Random) -> tuple[str, int]:
    """``word`` with up to ``n`` non-overlapping substitutions, each of which changes its IPA;
    returns the new spelling and how many were applied."""
    candidates = [(i, src, dst) for src, dst in SUBSTITUTIONS for i in range(len(word))
                  if word.startswith(src, i)]
    rng.shuffle(candidates)
    chosen: list[tuple[int, str, str]] = []
    used: set[int] = set()
    spelling = word
    for i, src, dst in candidates:
        if len(chosen) == n:
            break
        span = set(range(i, i + len(src)))
        if span & used:
            continue
        trial = _apply(word, chosen + [(i, src, dst)])
        if ipa(trial) != ipa(spelling):
            chosen.append((i, src, dst))
            used |= span
            spelling = trial
    return spelling, len(chosen)


@attrs.frozen
class WordScore:
    word: str
    spoken: str  # the (possibly mispronounced) spelling given to the synthesiser
    substitutions: int
    stress_error: bool

    @property
    def accuracy(self) -> int:
        return 10 - 3 * self.substitutions

    @property
    def stress(self) -> int:
        return 5 if self.stress_error else 10

    @property
    def total(self) -> int:
        return round_half_up((2 * self.accuracy + self.stress) / 3)


@attrs.frozen
class Reading:
    """One learner reading of a sentence, with its scores."""

    sentence: str
    words: tuple[WordScore, ...]
    pause_level: int
    skill: int

    @property
    def accuracy(self) -> int:
        return round_half_up(sum(w.accuracy for w in self.words) / len(self.words))

    @property
    def fluency(self) -> int:
        return 10 - 2 * self.pause_level

    @property
    def prosodic(self) -> int:
        return round_half_up(10 - 6 * sum(w.stress_error for w in self.words) / len(self.words))

    @property
    def total(self) -> int:
        return round_half_up((self.accuracy + self.prosodic + self.fluency) / 3)

    def recipe(self, voice: str, rate: int, pitch: int) -> dict:
        """The ``words`` audio recipe (see :mod:`llaso_core.data.synth.render`)."""
        return {"kind": "words", "voice": voice, "gap": GAPS[self.pause_level], "words": [
            {"text": w.spoken, "rate": rate,
             "pitch": max(0, pitch - STRESS_PITCH_DROP) if w.stress_error else pitch,
             "peak": 0.7 * STRESS_LEVEL if w.stress_error else 0.7} for w in self.words]}

    def facts(self) -> dict:
        return {"skill": self.skill, "pause_level": self.pause_level,
                "spoken": " ".join(w.spoken for w in self.words),
                "substitutions": [w.substitutions for w in self.words],
                "stress_errors": [int(w.stress_error) for w in self.words]}


def read(sentence: str, skill: int, rng: random.Random) -> Reading:
    """A reading of ``sentence`` by a learner of ``skill`` (0-3)."""
    words = []
    for word in sentence.split():
        wanted = 0
        if rng.random() < P_SUBSTITUTE[skill]:
            wanted = 2 if skill >= 2 and rng.random() < 0.4 else 1
        spoken, applied = mispronounce(word, wanted, rng) if wanted else (word, 0)
        words.append(WordScore(word, spoken, applied, rng.random() < P_STRESS[skill]))
    pause = min(3, max(0, skill + rng.choice((-1, 0, 0, 1))))
    return Reading(sentence, tuple(words), pause, skill)


def word_target(reading: Reading) -> str:
    """``For "kate", accuracy is 10, stress is 10, and total score is 10.`` per word."""
    return " ".join(f'For "{w.word}", accuracy is {w.accuracy}, stress is {w.stress}, and total score is {w.total}.'
                    for w in reading.words)


def sentence_target(reading: Reading) -> str:
    """``Kate likes tea. For the sentence: accuracy is N, prosodic is N, fluency is N total score is N.``"""
    return (f"{capitalise(reading.sentence)}. For the sentence: accuracy is {reading.accuracy}, prosodic is "
            f"{reading.prosodic}, fluency is {reading.fluency} total score is {reading.total}.")
