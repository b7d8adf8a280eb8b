"""Text QA corpora (Alpaca / Dolly / OpenOrca style): a JSON list, JSON object or JSON Lines file
of records with ``instruction``/``input``/``output`` (also ``question``/``answer``,
``instruction``/``context``/``response``, ``question``/``response``) -> AQA. Nothing is spoken
here: the builder synthesises the instruction and input in different voices and makes ``at``
(spoken instruction + text input), ``ta`` (text instruction + spoken input) when there is an input,
and ``pa`` (everything spoken). Every record is its own split group.

Stems: ``sources`` may map a modality (``ta``/``at``/``pa``) to an AQA stem; otherwise the stem of
that modality whose name starts with ``<name>_`` (``dolly`` -> ``dolly_input_1``,
``dolly_instruction_0``), else the first AQA stem of that modality. ``name`` (option) defaults to
the input's ``source`` or the file's stem.

Options: ``name``, ``max_chars`` (skip records whose instruction + input is longer).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import BuildError, Prompt, RawItem, Skipped, Target
from llaso_core.data.release import ReleaseError, iter_records

INSTRUCTION_KEYS = ("instruction", "question", "prompt", "query")
INPUT_KEYS = ("input", "context")
OUTPUT_KEYS = ("output", "answer", "response", "completion")
MODALITIES = ("ta", "at", "pa")
STEM_SUFFIX = re.compile(r"_(input_1|instruction_0|end)$")


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def modality_stems(ctx: AdapterContext, name: str) -> dict[str, str]:
    """AQA stem per modality (see the module docstring)."""
    task = ctx.host.tasks.get("AQA")
    given = ctx.sources.get("AQA")
    out = {}
    for modality in MODALITIES:
        stems = [s.stem for s in task.sources if modality in s.modalities]
        if modality in ctx.sources:
            out[modality] = ctx.sources[modality]
        elif given in stems:
            out[modality] = given
        elif stems:
            named = [s for s in stems if s.lower().startswith(name.lower() + "_")]
            out[modality] = (named or stems)[0]
    return out


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    if not ctx.path.is_file():
        raise BuildError(f"text-qa: {ctx.path} is not a file")
    given = ctx.sources.get("AQA")
    name = str(ctx.option("name") or (STEM_SUFFIX.sub("", given) if given else ctx.path.stem.split(".")[0]))
    stems = modality_stems(ctx, name)
    max_chars = ctx.option("max_chars")
    seen: set[str] = set()
    try:
        for index, record in iter_records(ctx.path):
            where = f"{ctx.path}:{index}"
            if not isinstance(record, dict):
                yield Skipped("bad_record", where, "not a JSON object")
                continue
            instruction, output = _first(record, INSTRUCTION_KEYS), _first(record, OUTPUT_KEYS)
            text_input = _first(record, INPUT_KEYS)
            if instruction is None or output is None:
                yield Skipped("no_instruction_or_answer", where, f"keys: {', '.join(sorted(record))[:200]}")
                continue
            if max_chars is not None and len(instruction) + len(text_input or "") > int(max_chars):
                yield Skipped("text_too_long", where, f"{len(instruction) + len(text_input or '')} characters")
                continue
            rid = record.get("id")
            item_id = str(rid) if rid not in (None, "") and str(rid) not in seen else str(index)
            seen.add(item_id)
            yield RawItem(id=item_id, group=item_id, prompt=Prompt(instruction, text_input),
                          targets=(Target("AQA", output, stems.get("ta") or next(iter(stems.values())),
                                          by_modality=stems),) if "AQA" in ctx.tasks else (),
                          metadata={"record": index, **({"id": str(rid)} if rid not in (None, "") else {})})
    except ReleaseError as exc:
        raise BuildError(f"text-qa: {exc}") from None
