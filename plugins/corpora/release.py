"""LLaSO release folders (``*_train.json`` / ``*_test.json``, flat or in modality folders) read by
:func:`~llaso_core.data.release.load_release`: already samples, passed through with their split
and audio paths made absolute.

Options: ``resplit`` (re-split by group with the build's seed and eval fraction; the group is
``speaker_id``, else ``metadata.speaker``/``meta-data.speaker``, else the audio path, else the id),
``standardize_audio`` (decode, resample and copy every clip under ``out/audio/``; default off),
``exclude`` (folder or file names to leave out, e.g. ``merged``).
"""

from __future__ import annotations

from typing import Any, Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import Note, RawItem, Skipped, Target, map_audio, require_dir
from llaso_core.data.release import load_release, resolve
from llaso_core.evaluation.records import REPAIRED


def group_of(sample: Any) -> str:
    meta = sample.metadata
    for key in ("speaker_id", "speaker"):
        if meta.get(key) not in (None, ""):
            return f"speaker:{meta[key]}"
    for key in ("metadata", "meta-data"):
        inner = meta.get(key)
        if isinstance(inner, dict) and inner.get("speaker") not in (None, ""):
            return f"speaker:{inner['speaker']}"
    if sample.audio:
        return f"audio:{sample.audio[0].path}"
    return f"id:{sample.id}"


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped | Note]:
    root = require_dir(ctx.path, ctx.adapter.id)
    exclude = ctx.option("exclude", ())
    result = load_release(root, host=ctx.host, on_error="skip", tasks=sorted(ctx.tasks),
                          exclude=[exclude] if isinstance(exclude, str) else exclude)
    for skipped in result.skipped:
        yield Skipped("malformed_record", f"{skipped.path}:{skipped.index}", skipped.reason)
    for repaired in result.repaired:  # a path may hold ": " too, so split at the note's own words
        where, _, what = repaired.rpartition(f": {REPAIRED} ")
        yield Note(where, f"{REPAIRED} {what}")
    for path in result.unknown:
        yield Skipped("unknown_file", str(path), "no task declares this file's stem")
    resplit = bool(ctx.option("resplit", False))
    for sample in result.samples:
        absolute = map_audio(sample, lambda p: str(resolve(root, p)))
        yield RawItem(id=sample.id, group=group_of(sample), sample=absolute,
                      targets=(Target(sample.task, sample.target, sample.source),),
                      split=None if resplit else sample.split)
