"""Seeded text for the synthetic corpus: pools split once into train and eval items, the
sentence grammar that most spoken inputs use, and phonemizer's IPA. (The built-in tasks' own
pools -- learner sentences, command words, SLURP-like requests, questions -- are in
``llaso_plugins.recipes.content``.)

Every pool is a fixed, seed-independent set of items split once into TRAIN and EVAL by a hash
of the item (:func:`split_of`, one in five goes to EVAL), so eval items never occur in training
whatever the seed; the corpus seed only decides which items are drawn. Draw with
``pool.draw(rng, split)`` (``rng`` a :class:`random.Random`).
"""

from __future__ import annotations

import hashlib
import random
from typing import Callable, Generic, Sequence, TypeVar

T = TypeVar("T")
EVAL_SHARE = 5  #: one item in EVAL_SHARE is held out for evaluation


def split_of(key: str) -> str:
    """``eval`` for about one key in five, else ``train`` (a fixed hash: the same on every run)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return "eval" if int.from_bytes(digest, "big") % EVAL_SHARE == 0 else "train"


class Pool(Generic[T]):
    """Items ``make(rng)`` with a key ``key(item)``, drawn only from one split."""

    def __init__(self, make: Callable[[random.Random], T], key: Callable[[T], str] = str) -> None:
        self.make, self.key = make, key

    def draw(self, rng: random.Random, split: str, tries: int = 1000) -> T:
        for _ in range(tries):
            item = self.make(rng)
            if split_of(self.key(item)) == split:
                return item
        raise RuntimeError(f"no {split} item found in {tries} draws")


def choice(rng: random.Random, options: Sequence[T]) -> T:
    """One of ``options`` (one ``rng.randrange`` call)."""
    return options[rng.randrange(len(options))]


# -- sentences -------------------------------------------------------------------------------------
SUBJECTS = ("the old man", "my sister", "a small dog", "the teacher", "our neighbour", "the young girl",
            "his brother", "the farmer", "a tired student", "the little boy", "her mother", "the driver",
            "my friend", "the doctor", "the children", "a quiet woman", "the baker", "our captain")
VERBS = ("painted", "found", "carried", "cleaned", "opened", "bought", "sold", "watched", "dropped",
         "moved", "fixed", "washed", "borrowed", "lost", "hid", "pulled", "checked", "wrapped")
OBJECTS = ("the red box", "a wooden chair", "the green door", "an old map", "the blue car", "a heavy bag",
           "the kitchen window", "a yellow kite", "the garden gate", "a silver key", "the broken clock",
           "a warm coat", "the paper boat", "a large basket", "the white fence", "a glass bottle")
ADVERBIALS = ("this morning", "after lunch", "near the river", "in the park", "before dinner",
              "last night", "at the station", "on sunday", "by the lake", "in the rain", "at noon",
              "after school", "")


def _sentence(rng: random.Random) -> str:
    parts = [choice(rng, SUBJECTS), choice(rng, VERBS), choice(rng, OBJECTS), choice(rng, ADVERBIALS)]
    return " ".join(p for p in parts if p)


#: lowercase sentences without punctuation ("the farmer carried a silver key after lunch")
SENTENCES: Pool[str] = Pool(_sentence)


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- phonemes ----------------------------------------------------------------------------------------
_BACKEND = None


def ipa(text: str) -> str:
    """phonemizer's IPA of ``text`` (espeak-ng backend, en-us, no stress marks, punctuation
    dropped, words separated by spaces) -- how the PR targets of the release were made."""
    global _BACKEND
    if _BACKEND is None:
        import logging

        import espeakng_loader
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper

        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
        quiet = logging.getLogger("llaso.synth.phonemizer")
        quiet.setLevel(logging.ERROR)
        _BACKEND = EspeakBackend("en-us", logger=quiet)
    return _BACKEND.phonemize([text], strip=True)[0]
