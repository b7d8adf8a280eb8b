"""The unified sample record that training and evaluation both consume.

A sample is a task, a source, a modality, a typed query (ordered text and audio segments, paper
Eq. 1) and a target. It round-trips to a JSON object (one line of a ``.jsonl`` file) and to the
released LLaSO layout (``voice`` + ``conversations``).
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from llaso_core.query import AUDIO_TAG, AudioRef, AudioSegment, Query, TextSegment

Split = Literal["train", "eval"]
SPLITS: tuple[Split, ...] = ("train", "eval")
#: Split names a unified sample may use for one of ``SPLITS``.
SPLIT_ALIASES = {"test": "eval"}


@attrs.frozen
class Sample:
    """One training or evaluation example.

    ``query.segments`` hold the instruction/input/cue as text or audio; audio paths are relative
    to the dataset root (or absolute). ``template_id`` records which instruction template was used
    (None for release data, whose instruction is given verbatim).
    """

    id: str
    task: str
    source: str
    query: Query
    target: str
    split: Split = "train"
    template_id: str | None = None
    metadata: dict[str, Any] = attrs.field(factory=dict)

    @property
    def modality(self) -> str:
        return self.query.modality

    @property
    def audio(self) -> tuple[AudioRef, ...]:
        return self.query.audio

    # -- unified JSON ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "task": self.task, "source": self.source, "modality": self.modality,
            "segments": [_segment_dict(s) for s in self.query.segments],
            "target": self.target, "split": self.split, "template_id": self.template_id,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Sample":
        """A unified JSON sample; ``ValueError`` naming the sample for one that is not (a missing
        field, a split other than train or eval; ``test`` is read as eval)."""
        try:
            segments = tuple(_segment(s) for s in data["segments"])
            split = data.get("split", "train")
            split = SPLIT_ALIASES.get(split, split)
            if split not in SPLITS:
                raise ValueError(f"sample {data['id']}: split {split!r} is not train or eval (or test)")
            return cls(id=str(data["id"]), task=data["task"], source=data["source"],
                       query=Query(data["modality"], segments), target=data["target"],
                       split=split, template_id=data.get("template_id"), metadata=data.get("metadata") or {})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"sample {data.get('id', '?')}: not a llaso sample ({exc!r})") from None

    # -- LLaSO release layout -----------------------------------------------------------
    def to_llaso(self) -> dict[str, Any]:
        """``{"voice": [...], "conversations": [human, gpt], ...metadata}`` as the release has it."""
        human = "".join(AUDIO_TAG if isinstance(s, AudioSegment) else s.text for s in self.query.segments)
        return {"id": self.id, "voice": [a.path for a in self.audio],
                "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": self.target}],
                **({"metadata": self.metadata} if self.metadata else {})}


def _segment_dict(segment: TextSegment | AudioSegment) -> dict[str, Any]:
    if isinstance(segment, TextSegment):
        return {"type": "text", "role": segment.role, "text": segment.text}
    out = {"type": "audio", "role": segment.role, "path": segment.audio.path}
    if segment.audio.transcript is not None:
        out["transcript"] = segment.audio.transcript
    return out


def _segment(data: dict[str, Any]) -> TextSegment | AudioSegment:
    if data["type"] == "text":
        return TextSegment(data["text"], data["role"])
    if data["type"] == "audio":
        return AudioSegment(AudioRef(data["path"], data.get("transcript")), data["role"])
    raise ValueError(f"unknown segment type {data['type']!r}")
