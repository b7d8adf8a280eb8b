"""The declared English text normaliser of the ``strict`` protocol for WER/CER."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["BASIC_EN", "basic_en"]

BASIC_EN = "basic-en@1"
"""Name and version of ``basic_en``; bump the version whenever its output changes."""

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# Punctuation and symbols: anything but a word character, whitespace or apostrophe; and '_'.
_PUNCT = re.compile(r"[^\w\s']|_")
# An apostrophe not flanked by word characters on both sides ('quoted', dogs', 'tis).
_LOOSE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def basic_en(text: str) -> str:
    """``basic-en@1``: Unicode NFKC, lowercase, typographic apostrophes -> "'", every other
    punctuation or symbol character -> space (hyphens split words), apostrophes kept only
    inside words ("don't" stays, "'quoted'" loses them), whitespace collapsed and trimmed.
    No number or spelling normalisation."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    text = _PUNCT.sub(" ", text)
    if "'" in text:
        text = _LOOSE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())
