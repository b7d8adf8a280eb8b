"""Typed queries (paper Eq. 1): ordered text and audio segments, assembled per modality.

``assemble`` builds a query from an instruction and an input following a modality's layout;
``parse_release_turn`` reads a released LLaSO human turn (``"...<audio>..."``) back into one.
"""

from __future__ import annotations

from typing import Iterable, Union

import attrs

from llaso_core.specs import ModalitySpec

AUDIO_TAG = "<audio>"


@attrs.frozen
class AudioRef:
    """Audio given by path (relative to a dataset root or absolute); ``transcript`` is what it says."""

    path: str
    transcript: str | None = None


@attrs.frozen
class TextSegment:
    text: str
    role: str


@attrs.frozen
class AudioSegment:
    audio: AudioRef
    role: str


Segment = Union[TextSegment, AudioSegment]
Content = Union[str, AudioRef]


@attrs.frozen
class Query:
    """What the user turn contains, in order, tagged with the modality that produced it."""

    modality: str
    segments: tuple[Segment, ...]

    @property
    def audio(self) -> tuple[AudioRef, ...]:
        return tuple(s.audio for s in self.segments if isinstance(s, AudioSegment))

    def text_of(self, role: str) -> str | None:
        return next((s.text for s in self.segments if isinstance(s, TextSegment) and s.role == role), None)


class QueryError(ValueError):
    """Content does not fit the modality's layout."""


def assemble(modality: ModalitySpec, *, instruction: Content, input: Content | None = None,
             cue: str | None = None) -> Query:
    """Place ``instruction`` and ``input`` into the modality's slots (a ``request`` slot takes the
    instruction, which then carries the input too); a ``cue`` slot gets ``cue`` or the first cue."""
    values: dict[str, Content | None] = {
        "instruction": instruction, "request": instruction, "input": input,
        "cue": cue if cue is not None else (modality.cues[0] if modality.cues else None)}
    segments: list[Segment] = []
    for slot in modality.layout:
        value = values[slot.role]
        if value is None:
            if slot.role == "input":
                continue  # a task may have no separate input (e.g. AQA spoken question)
            raise QueryError(f"modality {modality.id}: nothing for the {slot.role} slot")
        if slot.medium == "audio":
            if not isinstance(value, AudioRef):
                raise QueryError(f"modality {modality.id}: the {slot.role} must be audio, got text {value!r:.60}")
            segments.append(AudioSegment(value, slot.role))
        else:
            if not isinstance(value, str):
                raise QueryError(f"modality {modality.id}: the {slot.role} must be text, got audio {value.path}")
            segments.append(TextSegment(value, slot.role))
    return Query(modality.id, tuple(segments))


def parse_release_turn(value: str, voice: Iterable[str] | str, modalities: Iterable[ModalitySpec]) -> Query:
    """Read a released LLaSO human turn back into a query.

    Where ``<audio>`` sits decides the layout (last: text then audio; first: audio then text);
    ``modalities`` are the candidates (a source's declared modalities). Text + audio is ``pa``
    rather than ``ta`` when only a cue layout is a candidate or the text is one of its cues.
    """
    paths = [voice] if isinstance(voice, str) else list(voice)
    parts = value.split(AUDIO_TAG)
    if len(parts) - 1 != len(paths):
        raise QueryError(f"the turn has {len(parts) - 1} {AUDIO_TAG} tag(s) but {len(paths)} audio path(s)")
    audio_iter = iter(paths)
    pieces: list[Content] = []
    for i, text in enumerate(parts):
        if text.strip():
            pieces.append(text.strip())
        if i < len(parts) - 1:
            pieces.append(AudioRef(next(audio_iter)))
    media = tuple("audio" if isinstance(p, AudioRef) else "text" for p in pieces)
    candidates = [m for m in modalities if m.media == media]
    if not candidates:
        raise QueryError(f"no modality has the layout {' + '.join(media) or 'empty'}")
    with_cue = [m for m in candidates if m.slot("cue") and pieces[0] in m.cues]
    chosen = with_cue[0] if with_cue else (
        candidates[0] if len(candidates) == 1 else next((m for m in candidates if not m.slot("cue")), candidates[0]))
    segments = tuple(AudioSegment(p, s.role) if isinstance(p, AudioRef) else TextSegment(p, s.role)
                     for p, s in zip(pieces, chosen.layout))
    return Query(chosen.id, segments)
