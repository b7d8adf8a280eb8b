"""A tolerant reader for prediction and judge files (JSON arrays or JSON Lines).

Real released files are not always clean JSON: records span lines (raw newlines inside strings),
strings hold other control characters, files start with a UTF-8 BOM, use CRLF line ends, or stop
in the middle of the last record. `read_records` reads what the released scripts' ``json.load``
with ``strict=False`` would read, counts what it had to repair, and names (file and line) every
record it still cannot read instead of giving up on the whole file.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

BOM = "\ufeff"
LEFT_OUT = "; left out"  # ends every problem that means a record was not scored
_STRICT = json.JSONDecoder()
_LENIENT = json.JSONDecoder(strict=False)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_CONTROL = re.compile(r"[\x00-\x1f]")

# Repair kinds, as they appear in results.json problems.
REPAIR_BOM = "UTF-8 BOM removed"
REPAIR_CRLF = "CRLF line ends"
REPAIR_UTF8 = "invalid UTF-8 bytes replaced"
REPAIR_CONTROL = "records with control characters inside strings"
REPAIR_SPANNING = "records spanning lines"
REPAIR_UNCLOSED = "JSON array without its closing ']'"


class RecordFileError(ValueError):
    """The file cannot be read at all (missing, a folder, not text); the message names it."""


@attrs.frozen
class Record:
    """One top-level value of the file and the line it starts on (1-based)."""

    line: int | None  # None when the file parsed in one go (a clean JSON array)
    value: Any

    def where(self, path: Path, index: int) -> str:
        """``file:line`` when the line is known, else ``file: record N``."""
        return f"{path}:{self.line}" if self.line is not None else f"{path}: record {index}"


@attrs.frozen
class Unreadable:
    """A record that could not be read: the line it starts on, how many records were read before
    it (its position among the file's records), and why."""

    line: int
    before: int
    why: str


@attrs.frozen
class RecordFile:
    """What `read_records` made of one file."""

    path: Path
    records: tuple[Record, ...]
    repairs: dict[str, int]  # repair kind -> count (empty for a clean file)
    unreadable: tuple[Unreadable, ...]  # records that could not be read, in file order
    first_invalid_byte: int | None = None  # byte offset of the first byte that was not UTF-8

    def repair_note(self) -> str | None:
        """``<file>: read after repair (<what, counted>)``, or None for a clean file."""
        return repair_note(self.path, self.repairs, self.first_invalid_byte)

    def problems(self) -> list[str]:
        """One line for the repairs (if any), then one per unreadable record."""
        note = self.repair_note()
        return ([note] if note else []) + [f"{self.path}:{u.line}: {u.why}{LEFT_OUT}" for u in self.unreadable]


#: What a repair note says after the file's path: ``<file>: read after repair (<what>)``.
REPAIRED = "read after repair"


def repair_note(path: Path, repairs: dict[str, int], first_invalid_byte: int | None = None) -> str | None:
    """The one line that reports a file's repairs (repair kind -> count), or None when there were none."""
    if not repairs:
        return None
    what = ", ".join(f"{count} {kind}" if count > 1 or kind.startswith("records") else kind
                     for kind, count in repairs.items())
    if first_invalid_byte is not None:
        what += f", the first at byte offset {first_invalid_byte}"
    return f"{path}: {REPAIRED} ({what})"


def read_records(path: Path) -> RecordFile:
    """Every record of a JSON array, a single JSON value, or JSON Lines (see module docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    repairs: Counter[str] = Counter()
    first_invalid_byte = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_invalid_byte = exc.start
        text = data.decode("utf-8", errors="replace")
        repairs[REPAIR_UTF8] = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    if text.startswith(BOM):
        text = text[1:]
        repairs[REPAIR_BOM] = 1
    if "\r\n" in text:
        repairs[REPAIR_CRLF] = 1
        text = text.replace("\r\n", "\n")
    unreadable: list[Unreadable] = []
    if text.lstrip().startswith("["):
        records = _read_array(text, repairs, unreadable)
    elif text.lstrip().startswith("{") and (single := _single_value(text)) is not None:
        records = [Record(_line_of(text, text.index("{")), single)]
    else:
        records = _read_lines(text, repairs, unreadable)
    return RecordFile(path, tuple(records), dict(repairs), tuple(unreadable), first_invalid_byte)


def _single_value(text: str) -> Any:
    """The file's one JSON value (a pretty-printed object), or None for JSON Lines."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(_has_control(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_control(v) for v in value)
    return False


def _read_array(text: str, repairs: Counter[str], unreadable: list[Unreadable]) -> list[Record]:
    """A JSON array: one strict parse when the file is clean, else element by element."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        return [Record(None, v) for v in values] if isinstance(values, list) else [Record(1, values)]
    records: list[Record] = []
    pos = text.index("[") + 1
    line, counted = 1, 0  # the line of text[counted], counted forward once (not from the start per element)
    while True:
        pos = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == ",":
            pos = _WHITESPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
        if pos >= len(text):
            repairs[REPAIR_UNCLOSED] = 1
            break
        if text[pos] == "]":
            break
        line, counted = line + text.count("\n", counted, pos), pos
        try:
            value, end = _LENIENT.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            resume = _resync_array(text, pos)
            rest = "" if resume is not None else "; the rest of the file cannot be read"
            unreadable.append(Unreadable(line, len(records), f"unreadable record ({exc.msg}){rest}"))
            if resume is None:
                break
            pos = resume
            continue
        if _has_control(value):
            repairs[REPAIR_CONTROL] += 1
        records.append(Record(line, value))
        pos = end
    return records


def _resync_array(text: str, pos: int) -> int | None:
    """Where the next element starts after a broken one: the next line that opens an object at
    the broken element's indentation (pretty-printed arrays), else None (nothing more to read)."""
    start = text.rfind("\n", 0, pos) + 1
    indent = text[start:pos]
    if indent.strip():  # elements on one line: no reliable restart point
        return None
    match = re.compile("\n" + re.escape(indent) + r"\{").search(text, pos + 1)
    return match.start() + 1 if match else None


def _read_lines(text: str, repairs: Counter[str], unreadable: list[Unreadable]) -> list[Record]:
    """JSON Lines; a line that does not parse is joined with the following ones until the record
    parses (a record spanning lines), or left out and named when the next record starts first."""
    lines = text.split("\n")
    records: list[Record] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        try:
            records.append(Record(i + 1, json.loads(line)))
            i += 1
            continue
        except json.JSONDecodeError as exc:
            first_error = exc.msg
        try:
            records.append(Record(i + 1, _LENIENT.decode(line)))
            repairs[REPAIR_CONTROL] += 1
            i += 1
            continue
        except json.JSONDecodeError:
            pass
        value, used = _join_following(lines, i)
        if value is None:
            unreadable.append(Unreadable(i + 1, len(records), f"unreadable record ({first_error})"))
            i += used
            continue
        records.append(Record(i + 1, value))
        repairs[REPAIR_SPANNING] += 1
        i += used
    return records


def _parses_alone(line: str) -> bool:
    if not line.lstrip().startswith("{"):
        return False
    try:
        _LENIENT.decode(line)
    except json.JSONDecodeError:
        return False
    return True


def _join_following(lines: list[str], i: int) -> tuple[Any, int]:
    """(record, lines used) for a record starting on line ``i`` and spanning the next lines, or
    (None, lines to skip) when a line that is a record of its own comes first or the file ends."""
    chunk = lines[i]
    for j in range(i + 1, len(lines)):
        if _parses_alone(lines[j]):
            return None, j - i
        chunk += "\n" + lines[j]
        try:
            return _LENIENT.decode(chunk), j - i + 1
        except json.JSONDecodeError:
            continue
    return None, len(lines) - i
