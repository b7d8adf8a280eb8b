"""What an adapter yields: raw items (one source clip or text record, with its targets), and the
small helpers every adapter shares (file discovery, label checks, the English heuristic, seeded
hashing).

A :class:`RawItem` is one *source item*: an audio file with one target per task it serves
(an NSynth note -> IC, ISC, PP, VC), a text-QA record (no audio yet: instruction, input and
answer), or an already-built :class:`~llaso_core.data.sample.Sample` (LLaSO release). ``group``
is what the train/eval split keeps together (speaker, instrument, actor).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import attrs

from llaso_core.data.sample import Sample
from llaso_core.query import AudioRef, AudioSegment, Query

#: audio file extensions adapters look for
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".opus")


class BuildError(ValueError):
    """A build spec, input or adapter cannot be used; the message says which and why."""


@attrs.frozen
class Target:
    """One task's answer for a raw item. ``source`` is the release stem the samples are filed
    under; ``by_modality`` overrides it per modality (text-QA: ``dolly_input_1`` for ta, ...)."""

    task: str
    value: str
    source: str | None = None
    by_modality: Mapping[str, str] = attrs.field(factory=dict)

    def source_for(self, modality: str) -> str | None:
        return self.by_modality.get(modality, self.source)


@attrs.frozen
class Prompt:
    """A text-QA record's request: the instruction and (optional) separate input."""

    instruction: str
    input: str | None = None


@attrs.frozen
class RawItem:
    """One source item. Exactly one of ``audio`` (a clip to standardise), ``prompt`` (text to
    speak) or ``sample`` (a finished sample to pass through) is set."""

    id: str
    group: str
    targets: tuple[Target, ...] = ()
    audio: Path | None = None
    prompt: Prompt | None = None
    sample: Sample | None = None
    split: str | None = None  # a fixed split (release samples not re-split); None: by group hash
    metadata: dict[str, Any] = attrs.field(factory=dict)

    @property
    def kind(self) -> str:
        return "sample" if self.sample is not None else "audio" if self.audio is not None else "text"


@attrs.frozen
class Skipped:
    """What an adapter could not turn into an item (a file whose name does not parse, a record
    with no answer); counted per ``reason`` in the manifest."""

    reason: str
    where: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "where": self.where, "detail": self.detail}


@attrs.frozen
class Note:
    """Something an adapter did while reading that the corpus's user should know, though nothing
    was lost (a file read after repair); listed in the manifest's ``notes``."""

    where: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "detail": self.detail}


# -- shared adapter helpers ------------------------------------------------------------------------
def require_dir(path: Path, adapter: str) -> Path:
    if not path.is_dir():
        raise BuildError(f"{adapter}: {path} is not a folder")
    return path


def audio_files(root: Path, exts: Iterable[str] = AUDIO_EXTS) -> Iterator[Path]:
    """Audio files under ``root`` (recursive), sorted by relative path: a stable order."""
    wanted = {e.lower() for e in exts}
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if os.path.splitext(name)[1].lower() in wanted and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return iter(sorted(found, key=lambda p: p.relative_to(root).as_posix()))


def named_files(root: Path, pattern: "re.Pattern[str]", adapter: str) -> Iterator["tuple[Path, re.Match[str]] | Skipped"]:
    """Audio files under ``root`` whose name matches ``pattern`` (with the match), sorted; the
    others as :class:`Skipped` (``unparsed_name``)."""
    for path in audio_files(root):
        match = pattern.fullmatch(path.name)
        if match is None:
            yield Skipped("unparsed_name", str(path), f"{adapter}: the file name does not follow {pattern.pattern}")
        else:
            yield path, match


def english_ratio(text: str) -> float:
    """Share of letters that are ASCII (1.0 for text without letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(c.isascii() for c in letters) / len(letters)


def is_english(text: str, threshold: float = 0.9) -> bool:
    """A cheap heuristic: at least ``threshold`` of the letters are ASCII letters, and there are
    some letters at all. Good enough to drop Chinese/Cyrillic/... records of mixed QA corpora."""
    if not any(c.isalpha() for c in text):
        return False
    return english_ratio(text) >= threshold


def stable_unit(seed: int, *parts: str) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``parts`` (blake2b)."""
    digest = hashlib.blake2b(":".join((str(seed), *parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def stable_choice(seq: "list[Any] | tuple[Any, ...]", seed: int, *parts: str) -> Any:
    if not seq:
        raise BuildError(f"nothing to choose from for {':'.join(parts)}")
    return seq[int(stable_unit(seed, *parts) * len(seq))]


def safe_name(text: str, limit: int = 120) -> str:
    """A file-name-safe version of an item id (with a short hash when anything was replaced or cut)."""
    clean = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("._") or "item"
    if clean != text or len(clean) > limit:
        clean = f"{clean[:limit]}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"
    return clean


def map_audio(sample: Sample, fn: "Callable[[str], str]") -> Sample:
    """``sample`` with every audio path replaced by ``fn(path)``."""
    segments = tuple(AudioSegment(AudioRef(fn(s.audio.path), s.audio.transcript), s.role)
                     if isinstance(s, AudioSegment) else s for s in sample.query.segments)
    return attrs.evolve(sample, query=Query(sample.query.modality, segments))
