"""Reading prediction files: the LLaSO release layout and llaso's own per-sample JSONL.

Release files are JSON lists (or JSONL) of LLaSO samples plus a prediction under ``answer``,
``prediction`` or ``result``; the task is known only from the file name, the modality from
where ``<audio>`` sits. llaso's own rows name ``task``, ``source``, ``modality`` explicitly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Literal

import attrs

from llaso_core.evaluation.records import LEFT_OUT, Record, RecordFileError, read_records

PREDICTION_KEYS = ("answer", "prediction", "result")
SPLIT_SUFFIX = re.compile(r"(_stage\d+)?_(test|train|eval)(_stage\d+)?$")
FORMATS = ("llaso-release", "llaso")
Format = Literal["llaso-release", "llaso", "auto"]


class PredictionFileError(ValueError):
    """A prediction file cannot be read; the message names the file (and line or sample)."""


@attrs.frozen
class PredictionRow:
    index: int
    reference: str
    prediction: str | None  # None: the sample has no prediction
    human_turn: str  # the user turn in release form, "<audio>" marking the audio
    voice: tuple[str, ...]
    modality: str | None = None  # given by llaso rows; release rows are parsed later


@attrs.frozen
class PredictionSet:
    """The predictions of one source: one release file, or one source of a llaso file."""

    name: str  # file name without extension (or "<file>:<source>:<modality>" for llaso files)
    path: Path
    stem: str  # the source stem, e.g. vctk_gender_classification
    rows: tuple[PredictionRow, ...]
    format: str
    problems: tuple[str, ...] = ()  # what reading the file repaired or left out (on its first set)


def stem_of(path: Path) -> str:
    """``vctk_gender_classification_test.json`` -> ``vctk_gender_classification``."""
    name = path.name
    for suffix in (".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return SPLIT_SUFFIX.sub("", name)


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Files as given; folders give their ``*.json``/``*.jsonl`` files (not sub-folders such as
    the release's ``gpt_result/``)."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise PredictionFileError(f"{path}: no such file or folder")
    return files


def read_prediction_sets(path: Path, format: Format = "auto") -> list[PredictionSet]:
    """The prediction sets of one file, read tolerantly (`records.read_records`): repairs and
    records left out are listed in each set's ``problems``; only an unreadable file raises."""
    try:
        read = read_records(path)
    except RecordFileError as exc:
        raise PredictionFileError(str(exc)) from None
    problems = read.problems()
    records: list[tuple[int, Record]] = []
    for i, record in enumerate(read.records):
        if isinstance(record.value, dict):
            records.append((i, record))
        else:
            problems.append(f"{record.where(path, i)}: not a JSON object{LEFT_OUT}")
    if format == "auto":
        first = records[0][1].value if records else {}
        format = "llaso" if "source" in first and "conversations" not in first else "llaso-release"
    if format == "llaso-release":
        rows = []
        for i, record in records:
            try:
                rows.append(_release_row(i, record.value))
            except (ValueError, TypeError) as exc:
                problems.append(f"{record.where(path, i)}: {exc}{LEFT_OUT}")
        if not rows and problems:
            raise PredictionFileError(_nothing_readable(problems))
        return [PredictionSet(path.name.rsplit(".", 1)[0], path, stem_of(path), tuple(rows), format,
                              tuple(problems))]
    groups: dict[tuple[str, str | None], list[PredictionRow]] = {}
    for i, record in records:
        r = record.value
        try:
            groups.setdefault((r["source"], r.get("modality")), []).append(PredictionRow(
                index=int(r.get("index", i)), reference=str(r["reference"]), prediction=_text(r.get("prediction")),
                human_turn=str(r.get("human_turn", "")), voice=tuple(r.get("voice", ())),
                modality=r.get("modality")))
        except KeyError as exc:
            problems.append(f"{record.where(path, i)}: no {exc.args[0]!r} field{LEFT_OUT}")
        except (ValueError, TypeError) as exc:
            problems.append(f"{record.where(path, i)}: {exc}{LEFT_OUT}")
    if not groups and problems:
        raise PredictionFileError(_nothing_readable(problems))
    base = path.name.rsplit(".", 1)[0]
    return [PredictionSet(_set_name(base, stem, modality, len(groups)), path, stem, tuple(rows), format,
                          tuple(problems) if n == 0 else ())
            for n, ((stem, modality), rows) in enumerate(groups.items())]


def _nothing_readable(problems: list[str]) -> str:
    more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
    return "no readable prediction: " + "; ".join(problems[:2]) + more


def _set_name(base: str, stem: str, modality: str | None, groups: int) -> str:
    """One llaso file holds many sources and modalities: each (source, modality) is scored apart."""
    if groups == 1:
        return base
    return f"{base}:{stem}" + (f":{modality}" if modality else "")


def _release_row(index: int, record: dict[str, Any]) -> PredictionRow:
    try:
        turns = record["conversations"]
        human = next(t["value"] for t in turns if t.get("from") == "human")
        reference = next(t["value"] for t in turns if t.get("from") == "gpt")
    except (KeyError, StopIteration, TypeError, AttributeError):
        raise ValueError("no human/gpt conversation turns") from None
    prediction = next((record[k] for k in PREDICTION_KEYS if k in record), None)
    voice = record.get("voice") or ()
    voice = (voice,) if isinstance(voice, str) else tuple(voice)
    if not voice:  # some release files omit the audio path; keep the sample addressable
        voice = (f"{record.get('id', index)}.wav",) * human.count("<audio>")
    return PredictionRow(index, str(reference), _text(prediction), human, voice)


def _text(value: Any) -> str | None:
    """A prediction as text (a number answered as JSON ``5`` is "5"); None stays missing."""
    return None if value is None else str(value)
