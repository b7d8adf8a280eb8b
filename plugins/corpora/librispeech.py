"""LibriSpeech layout: ``<root>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`` with lines
``<utt-id> TRANSCRIPT`` beside ``<utt-id>.flac`` -> ASR (transcript) and PR (its IPA phonemes by
phonemizer/espeak-ng ``en-us``, words separated by spaces, no stress marks: the release's PR
format). Split group: the speaker.

Options: ``audio_ext`` (default ``flac``).
"""

from __future__ import annotations

import functools
from typing import Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import RawItem, Skipped, require_dir


@functools.lru_cache(maxsize=1)
def _backend():
    """phonemizer's espeak backend on the espeak-ng library of the ``espeakng-loader`` wheel."""
    import espeakng_loader
    from phonemizer.backend import EspeakBackend
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    return EspeakBackend("en-us", preserve_punctuation=False, with_stress=False)


def phonemize_en(texts: list[str]) -> list[str]:
    """IPA of each text (``en-us``), words separated by single spaces."""
    from phonemizer.separator import Separator

    if not texts:
        return []
    out = _backend().phonemize(texts, separator=Separator(phone="", syllable="", word=" "), strip=True)
    return [" ".join(p.split()) for p in out]


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    root = require_dir(ctx.path, ctx.adapter.id)
    ext = str(ctx.option("audio_ext", "flac")).lstrip(".")
    for trans in sorted(root.rglob("*.trans.txt"), key=lambda p: p.relative_to(root).as_posix()):
        rows: list[tuple[str, str]] = []
        for line_no, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), 1):
            utt, _, text = line.strip().partition(" ")
            if not utt:
                continue
            if not text.strip():
                yield Skipped("no_transcript", f"{trans}:{line_no}", f"utterance {utt} has no text")
                continue
            rows.append((utt, text.strip()))
        phonemes = phonemize_en([t for _, t in rows]) if "PR" in ctx.tasks else [None] * len(rows)
        for (utt, text), ipa in zip(rows, phonemes):
            speaker, chapter = (utt.split("-") + ["", ""])[:2]
            audio = trans.parent / f"{utt}.{ext}"
            yield RawItem(id=utt, group=speaker, audio=audio,
                          targets=ctx.targets({"ASR": text, "PR": ipa or None}),
                          metadata={"speaker_id": speaker, "chapter_id": chapter, "transcript": text,
                                    "file": audio.relative_to(root).as_posix()})
