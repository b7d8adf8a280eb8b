"""NSynth: ``examples.json`` (note_str -> {instrument_family_str, instrument_source_str, pitch,
velocity, instrument_str, ...}) with ``audio/<note_str>.wav`` -> IC (family, ``synth_lead`` ->
``synth lead``), ISC (acoustic/electronic/synthetic), PP (MIDI pitch), VC (velocity, only the
five VC labels 127/100/75/50/25). Split group: the instrument (``instrument_str``).

Options: ``examples`` (default ``examples.json``), ``audio_dir`` (default ``audio``).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import BuildError, RawItem, Skipped, require_dir

VELOCITIES = frozenset({25, 50, 75, 100, 127})


def _int(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def labels_of(note: str, record: dict[str, Any]) -> dict[str, str | None]:
    """The four task targets of one NSynth note (None where it has no valid value)."""
    family = record.get("instrument_family_str")
    source = record.get("instrument_source_str")
    pitch, velocity = _int(record.get("pitch")), _int(record.get("velocity"))
    return {
        "IC": family.replace("_", " ") if isinstance(family, str) and family else None,
        "ISC": source if isinstance(source, str) and source else None,
        "PP": str(pitch) if pitch is not None else None,
        "VC": str(velocity) if velocity in VELOCITIES else None,
    }


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    root = require_dir(ctx.path, ctx.adapter.id)
    examples = ctx.option_path("examples", "examples.json")
    audio_dir = ctx.option_path("audio_dir", "audio")
    try:
        data = json.loads(examples.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"nsynth: cannot read {examples}: {exc}") from None
    if not isinstance(data, dict):
        raise BuildError(f"nsynth: {examples} is not a JSON object of note_str -> record")
    for note in sorted(data):
        record = data[note]
        if not isinstance(record, dict):
            yield Skipped("bad_record", f"{examples}:{note}", "not a JSON object")
            continue
        note_str = str(record.get("note_str", note))
        instrument = str(record.get("instrument_str") or note_str.rsplit("-", 2)[0])
        audio = audio_dir / f"{note_str}.wav"
        yield RawItem(id=note_str, group=instrument, audio=audio, targets=ctx.targets(labels_of(note_str, record)),
                      metadata={"instrument": instrument, "file": audio.relative_to(root).as_posix()
                                if audio.is_relative_to(root) else str(audio)})
