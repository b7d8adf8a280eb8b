"""Ingesting the released LLaSO-Align / LLaSO-Instruct / LLaSO-Eval JSON files.

A release root holds ``*.json`` files, flat (LLaSO-Eval) or in modality folders
(``text_audio/``, ``audio_text/``, ``pure_audio/``, LLaSO-Instruct on Hugging Face). Nothing in
a record names its task: the file stem does (``host.source_of(stem_of(path))``), and the modality
is where ``<audio>`` sits in the human turn (a modality folder narrows the candidates). Audio paths
use Windows separators in the release; they are rewritten to ``/`` and kept relative to the root
(``resolve`` turns them into paths).

Files are read as streams (``ijson``), never loaded whole; ``load_release`` still collects every
sample in memory, so for LLaSO-Align (about 12M samples in one file) use
``llaso_core.data.index.open_index`` instead.

Sample ids are ``<file>:<index>``, where ``<file>`` is the file's path relative to the root
without ``.json`` (``text_audio/vctk_gender_classification_train:12``): unique within a file and
across the files of a root, where a bare stem is not (``_train``/``_test`` files, and the same
stem in ``text_audio/`` and ``pure_audio/``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence

import attrs

from llaso_core.evaluation.predictions import SPLIT_SUFFIX, stem_of
from llaso_core.evaluation.records import (
    REPAIR_BOM, REPAIR_CRLF, RecordFileError, Unreadable, read_records, repair_note,
)
from llaso_core.query import AUDIO_TAG, AudioRef, AudioSegment, Query, QueryError, TextSegment, parse_release_turn
from llaso_core.specs import ModalitySpec, Source, TaskSpec

from .sample import Sample, Split

OnError = Literal["raise", "skip"]

#: Keys of a release record that make up the query and target; every other key is metadata.
RECORD_KEYS = ("voice", "conversations")
#: Hugging Face LLaSO-Instruct folders and the modality each holds.
MODALITY_FOLDERS = {"text_audio": "ta", "audio_text": "at", "pure_audio": "pa"}
SPLITS: dict[str, Split] = {"train": "train", "test": "eval", "eval": "eval"}


class ReleaseError(ValueError):
    """A release file or record cannot be read; the message names the file (and sample index)."""


class ReleaseRecordError(ReleaseError):
    """One record is malformed: ``path`` and ``index`` say which. ``fatal``: the file cannot be
    read past it (broken JSON, not UTF-8, unreadable)."""

    def __init__(self, path: Path, index: int, reason: str, fatal: bool = False) -> None:
        super().__init__(f"{path}: sample {index}: {reason}")
        self.path = path
        self.index = index
        self.reason = reason
        self.fatal = fatal


@attrs.frozen
class SkippedRecord:
    """A malformed record left out under ``on_error="skip"``: ``index`` counts records from 0
    (``unit="sample"``, release files) or lines from 1 (``unit="line"``, JSON Lines files)."""

    path: Path
    index: int
    reason: str
    unit: str = "sample"

    @property
    def message(self) -> str:
        return f"{self.path}: {self.unit} {self.index}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "index": self.index, "unit": self.unit, "reason": self.reason}


@attrs.frozen
class ReleaseFile:
    """A release file mapped to its task and source."""

    path: Path
    name: str  # path relative to the root, POSIX separators, without ".json": the sample id prefix
    stem: str
    split: Split
    task: TaskSpec
    source: Source
    candidates: tuple[ModalitySpec, ...]  # the modalities its samples may be in
    folder_modality: str | None = None  # from a text_audio/ audio_text/ pure_audio/ folder

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.candidates)


@attrs.define
class ReleaseResult:
    """What ``load_release`` found. Iterating it (and ``len``) gives the samples."""

    root: Path
    files: list[ReleaseFile] = attrs.Factory(list)
    unknown: list[Path] = attrs.Factory(list)  # json files whose stem no task declares
    samples: list[Sample] = attrs.Factory(list)
    skipped: list[SkippedRecord] = attrs.Factory(list)
    repaired: list[str] = attrs.Factory(list)  # "<file>: read after repair (...)" per repaired file
    missing_audio: list[tuple[str, str]] = attrs.Factory(list)  # (sample id, root-relative path)
    counts: dict[str, int] = attrs.Factory(dict)  # file name -> samples read

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    @property
    def ok(self) -> bool:
        """No unknown files, skipped records or missing audio."""
        return not (self.unknown or self.skipped or self.missing_audio)

    def summary(self) -> str:
        lines = [f"{len(self.samples)} samples from {len(self.files)} files under {self.root}"]
        if self.unknown:
            lines.append(f"{len(self.unknown)} files with no task: "
                         + ", ".join(_rel(self.root, p) for p in self.unknown[:10])
                         + (" ..." if len(self.unknown) > 10 else ""))
        if self.skipped:
            lines.append(f"{len(self.skipped)} malformed records skipped, first: "
                         f"{self.skipped[0].path}: sample {self.skipped[0].index}: {self.skipped[0].reason}")
        lines += self.repaired
        if self.missing_audio:
            lines.append(f"{len(self.missing_audio)} audio files missing, first: {self.missing_audio[0][1]}")
        return "\n".join(lines)


# -- paths ------------------------------------------------------------------------------------

def normalize_audio_path(path: str) -> str:
    """The release's Windows separators rewritten to ``/`` (``vctk/wav48\\\\p283\\\\x.flac``)."""
    return path.replace("\\", "/")


def resolve(root: str | os.PathLike[str], ref: AudioRef | str) -> Path:
    """Where a sample's audio is on disk: root-relative paths joined to ``root``; absolute kept."""
    path = Path(normalize_audio_path(ref.path if isinstance(ref, AudioRef) else ref))
    return path if path.is_absolute() else Path(root) / path


def split_of(path: Path, default: Split | None = None) -> Split:
    """``..._train.json`` -> train, ``..._test.json`` -> eval (also ``_stage1_train``, ``_train_stage2``)."""
    name = path.name.removesuffix(".jsonl").removesuffix(".json")
    match = SPLIT_SUFFIX.search(name)
    if match:
        return SPLITS[match.group(2)]
    if default is None:
        raise ReleaseError(f"{path}: the file name has no _train/_test suffix; pass a default split")
    return default


# -- mapping files ----------------------------------------------------------------------------

def _host(host: Any) -> Any:
    if host is None:
        from llaso_core.loader import get_host
        return get_host()
    return host


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def map_file(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *, host: Any = None,
             default_split: Split | None = "train") -> ReleaseFile | None:
    """The task, source, split and candidate modalities of one release file; None if no task
    declares its stem."""
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    host = _host(host)
    stem = stem_of(path)
    found = host.source_of(stem)
    if found is None:
        return None
    task, source = found
    candidates = tuple(host.modalities.get(m) for m in source.modalities if m in host.modalities)
    if not candidates:
        raise ReleaseError(f"{path}: source {stem} of task {task.id} declares no registered modality "
                           f"({', '.join(source.modalities)})")
    rel = _rel(root, path)
    folders = PurePosixPath(rel).parts[:-1]
    folder_modality = next((MODALITY_FOLDERS[f] for f in reversed(folders) if f in MODALITY_FOLDERS), None)
    if folder_modality is not None:  # a modality folder narrows the candidates when it can
        narrowed = tuple(m for m in candidates if m.id == folder_modality)
        candidates = narrowed or candidates
    name = rel.removesuffix(".jsonl").removesuffix(".json")
    return ReleaseFile(path=path, name=name, stem=stem, split=split_of(path, default_split), task=task,
                       source=source, candidates=candidates, folder_modality=folder_modality)


def scan_release(root: str | os.PathLike[str], *, host: Any = None, default_split: Split | None = "train",
                 exclude: Iterable[str] = ()) -> tuple[list[ReleaseFile], list[Path]]:
    """Every ``*.json`` under ``root`` (recursively, sorted), as (mapped files, unknown files).

    ``exclude``: folder or file names to leave out (e.g. ``merged``, whose concatenated file has
    no task in its name and is otherwise reported as unknown)."""
    root = Path(root)
    if not root.is_dir():
        raise ReleaseError(f"{root}: not a folder" + ("" if root.exists() else " (no such file or folder)"))
    excluded = set(exclude)
    host = _host(host)
    files: list[ReleaseFile] = []
    unknown: list[Path] = []
    for path in sorted(root.rglob("*.json")):
        if not path.is_file() or excluded & set(path.relative_to(root).parts):
            continue
        mapped = map_file(path, root, host=host, default_split=default_split)
        if mapped is None:
            unknown.append(path)
        else:
            files.append(mapped)
    return files, unknown


# -- reading records ----------------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"


def first_invalid_utf8(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> tuple[int, int] | None:
    """(byte offset, byte value) of the first byte of ``path`` that is not valid UTF-8, or None."""
    offset, carry = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            data = carry + chunk
            try:
                data.decode("utf-8")
                offset, carry = offset + len(data), b""
            except UnicodeDecodeError as exc:
                if exc.end == len(data) and exc.reason == "unexpected end of data":  # a character split by the chunk
                    offset, carry = offset + exc.start, data[exc.start:]
                    continue
                return offset + exc.start, data[exc.start]
    return (offset, carry[0]) if carry else None


def utf8_problem(path: str | os.PathLike[str]) -> str | None:
    """"not valid UTF-8: byte 0xff at byte offset 17" for a file that is not UTF-8, else None."""
    found = first_invalid_utf8(path)
    return None if found is None else f"not valid UTF-8: byte 0x{found[1]:02x} at byte offset {found[0]}"


#: A file ijson cannot parse is read again whole by the tolerant reader up to this size; a bigger
#: one keeps only the records before the break (the tolerant reader holds the whole file in memory).
TOLERANT_MAX_BYTES = 1 << 30


def iter_records(path: str | os.PathLike[str], *, skipped: list[SkippedRecord] | None = None,
                 repaired: list[str] | None = None) -> Iterator[tuple[int, Any]]:
    """(index, record) of a JSON list, one JSON object, or JSON Lines.

    Clean files are streamed with ijson (a UTF-8 byte-order mark is skipped). Where ijson stops
    (raw control characters inside strings, records spanning lines, invalid UTF-8, a truncated
    record), the file is read again by the scorer's tolerant reader (``records.read_records``) and
    the records after those already given follow from it. A repaired file is noted in
    ``repaired`` (the scorer's ``read after repair (...)`` line); a record even that reader cannot
    read is appended to ``skipped`` and left out, or, with no ``skipped`` list, raises
    ``ReleaseRecordError``, as does a file that cannot be read further at all."""
    import ijson

    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise ReleaseRecordError(path, 0, f"cannot open: {exc.strerror or exc}", fatal=True) from None
    with f:
        bom = f.read(3) == UTF8_BOM
        start = 3 if bom else 0
        f.seek(start)
        first = b""
        while True:
            chunk = f.read(1)
            if not chunk or not chunk.isspace():
                first = chunk
                break
        f.seek(start)
        if not first:
            return
        reader = _CrlfWatch(f)
        items = (ijson.items(reader, "item", use_float=True) if first == b"["
                 else ijson.items(reader, "", multiple_values=True, use_float=True))
        index = 0
        try:
            for record in items:
                yield index, record
                index += 1
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            stopped = exc
        else:
            note = repair_note(path, {k: 1 for k, on in ((REPAIR_BOM, bom), (REPAIR_CRLF, reader.crlf)) if on})
            if note and repaired is not None:
                repaired.append(note)
            return
    yield from _read_tolerantly(path, index, stopped, skipped, repaired)


class _CrlfWatch:
    """A binary file whose reads note whether a CRLF line end went past (for the repair note)."""

    def __init__(self, f: Any) -> None:
        self._f = f
        self._last = b""
        self.crlf = False

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        if not self.crlf and data:
            self.crlf = b"\r\n" in self._last + data[:1] or b"\r\n" in data
            self._last = data[-1:]
        return data


def _read_tolerantly(path: Path, given: int, stopped: BaseException, skipped: list[SkippedRecord] | None,
                     repaired: list[str] | None) -> Iterator[tuple[int, Any]]:
    """The records of ``path`` after the first ``given``, from the tolerant reader (ijson stopped
    there with ``stopped``)."""
    size = path.stat().st_size
    if size > TOLERANT_MAX_BYTES:
        reason = utf8_problem(path) or f"malformed JSON: {_json_error_text(stopped)}"
        raise ReleaseRecordError(path, given, f"{reason}; the rest of the file cannot be read (at {size >> 20} MiB "
                                 "it is too big to read again tolerantly)", fatal=True)
    try:
        read = read_records(path)
    except RecordFileError as exc:
        raise ReleaseRecordError(path, given, str(exc).removeprefix(f"{path}: "), fatal=True) from None
    note = read.repair_note()
    if note and repaired is not None:
        repaired.append(note)
    broken = list(read.unreadable)
    position = done = 0  # position counts every record of the file, read or not
    for i, record in enumerate(read.records):
        while done < len(broken) and broken[done].before <= i:
            _unreadable(path, position, broken[done], skipped)
            position, done = position + 1, done + 1
        if position >= given:
            yield position, record.value
        position += 1
    for bad in broken[done:]:
        _unreadable(path, position, bad, skipped)
        position += 1


def _unreadable(path: Path, index: int, bad: Unreadable, skipped: list[SkippedRecord] | None) -> None:
    """Note (or raise, with no ``skipped`` list) record ``index``, which the tolerant reader could not read."""
    error = ReleaseRecordError(path, index, f"line {bad.line}: {bad.why}")
    if skipped is None:
        raise error
    skipped.append(SkippedRecord(path, error.index, error.reason))


def _json_error_text(exc: BaseException) -> str:
    """ijson's C backend reports bytes with a caret drawing; keep its first line, as text."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__


def record_to_sample(record: Any, file: ReleaseFile, index: int,
                     turn_cache: dict[tuple[str, int], Query] | None = None) -> Sample:
    """One release record as a ``Sample``; ``ReleaseRecordError`` names file and index.
    ``turn_cache``: a dict kept across the records of one file, to parse repeated turns once."""
    def bad(reason: str) -> ReleaseRecordError:
        return ReleaseRecordError(file.path, index, reason)

    if not isinstance(record, dict):
        raise bad(f"not a JSON object but {type(record).__name__}")
    turns = record.get("conversations")
    if not isinstance(turns, list):
        if index == 0 and "conversations" not in record and any(_holds_records(v) for v in record.values()):
            raise bad(f"the file holds a top-level JSON object (keys: {', '.join(map(str, list(record)[:5]))}), "
                      "not a list of records; a release file is a JSON list of records (or one record per line)")
        raise bad("no 'conversations' list")
    if (len(turns) == 2 and isinstance(turns[0], dict) and isinstance(turns[1], dict)
            and turns[0].get("from") == "human" and turns[1].get("from") == "gpt"):
        h, g = 0, 1  # the release's shape
    else:
        h = next((i for i, t in enumerate(turns) if isinstance(t, dict) and t.get("from") == "human"), None)
        if h is None:
            raise bad("no human turn in 'conversations'")
        g = next((i for i, t in enumerate(turns) if i > h and isinstance(t, dict) and t.get("from") == "gpt"),
                 None)
        if g is None:
            raise bad("no gpt turn after the human turn in 'conversations'")
    human, target = turns[h].get("value"), turns[g].get("value")
    if not isinstance(human, str):
        raise bad("the human turn has no text 'value'")
    if _is_number(target) and file.task.label_set(file.source.label_set).kind == "numeric":
        target = str(target)  # a numeric task's answer may be a JSON number; for any other task it is refused
    if not isinstance(target, str):
        raise bad(not_text("the gpt turn's 'value'", target))
    voice = record.get("voice", [])
    voice = [voice] if isinstance(voice, str) else voice
    if not isinstance(voice, list):
        raise bad("'voice' is not a path or a list of paths")
    paths = []
    for v in voice:
        if not isinstance(v, str) or not v:
            raise bad("'voice' is not a path or a list of paths")
        paths.append(v.replace("\\", "/"))
    try:
        query = _parse_turn(human, paths, file.candidates, turn_cache)
    except QueryError as exc:
        raise bad(f"{exc} (candidate modalities: {', '.join(file.modalities)})") from None
    metadata = {k: v for k, v in record.items() if k not in RECORD_KEYS}
    if len(turns) > 2:
        metadata["extra_turns"] = [t for i, t in enumerate(turns) if i not in (h, g)]
    return Sample(id=f"{file.name}:{index}", task=file.task.id, source=file.source.stem, query=query,
                  target=target, split=file.split, template_id=None, metadata=metadata)


TURN_CACHE_SIZE = 4096


def _parse_turn(human: str, paths: list[str], candidates: Sequence[ModalitySpec],
                cache: dict[tuple[str, int], Query] | None) -> Query:
    """``parse_release_turn``, memoised per file on the turn text: templated turns (ASR's 18
    instructions) repeat millions of times; only the audio paths differ."""
    if cache is None:
        return _parse_turn_uncached(human, paths, candidates)
    key = (human, len(paths))
    shape = cache.get(key)
    if shape is None:
        shape = _parse_turn_uncached(human, [f"\0{i}" for i in range(len(paths))], candidates)
        if len(cache) >= TURN_CACHE_SIZE:
            cache.clear()
        cache[key] = shape
    audio = iter(paths)
    return Query(shape.modality, tuple(AudioSegment(AudioRef(next(audio)), s.role) if isinstance(s, AudioSegment)
                                       else s for s in shape.segments))


def _parse_turn_uncached(human: str, paths: list[str], candidates: Sequence[ModalitySpec]) -> Query:
    # a pure-audio turn with no cue at all ("<audio>") fits a cue layout with an empty cue
    if human.strip() == AUDIO_TAG and len(paths) == 1:
        cue_layout = next((m for m in candidates if m.media == ("text", "audio") and m.slot("cue")), None)
        if cue_layout is not None:
            cue, request = cue_layout.layout
            return Query(cue_layout.id, (TextSegment("", cue.role), AudioSegment(AudioRef(paths[0]), request.role)))
    return parse_release_turn(human, paths, candidates)


def iter_file(file: ReleaseFile, *, on_error: OnError = "raise", skipped: list[SkippedRecord] | None = None,
              repaired: list[str] | None = None) -> Iterator[Sample]:
    """The samples of one release file, streamed. Under ``on_error="skip"`` malformed records are
    appended to ``skipped`` (if given) and left out; otherwise the first one raises. A file read
    after repair (see ``iter_records``) is noted in ``repaired``."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    turn_cache: dict[tuple[str, int], Query] = {}
    if on_error == "skip" and skipped is None:
        skipped = []
    records = iter_records(file.path, skipped=skipped if on_error == "skip" else None, repaired=repaired)
    while True:
        try:
            index, record = next(records)
            yield record_to_sample(record, file, index, turn_cache)
        except StopIteration:
            return
        except ReleaseRecordError as exc:
            if on_error == "raise":
                raise
            skipped.append(SkippedRecord(file.path, exc.index, exc.reason))  # type: ignore[union-attr]
            if exc.fatal:
                return


def _holds_records(value: Any) -> bool:
    """An object, or a non-empty list of objects: what a wrapper around the records would hold."""
    return isinstance(value, dict) or (isinstance(value, list) and bool(value)
                                       and all(isinstance(v, dict) for v in value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def not_text(what: str, value: Any) -> str:
    """Why a value that must be text is not: a number is named as one (it is not taken as a label)."""
    if value is None:
        return f"{what} is missing"
    if _is_number(value):
        return f"{what} is the number {value!r}, not text (write it as {json.dumps(str(value))} if that is the answer)"
    return f"{what} is a JSON {type(value).__name__}, not text"


def load_release(root: str | os.PathLike[str], *, host: Any = None, on_error: OnError = "raise",
                 check_audio: bool = False, default_split: Split | None = "train", exclude: Iterable[str] = (),
                 tasks: Iterable[str] | None = None, progress: Callable[[int], None] | None = None
                 ) -> ReleaseResult:
    """Every sample of a release root in memory (small roots: LLaSO-Eval, test fixtures).

    Unknown stems are listed in ``result.unknown``; ``check_audio`` lists samples whose audio does
    not exist under ``root`` in ``result.missing_audio``; ``tasks`` keeps only those task ids;
    ``progress(records_done)`` is called after each file."""
    root = Path(root)
    files, unknown = scan_release(root, host=host, default_split=default_split, exclude=exclude)
    wanted = {t.lower() for t in tasks} if tasks is not None else None
    result = ReleaseResult(root=root, unknown=unknown)
    done = 0
    for file in files:
        if wanted is not None and file.task.id.lower() not in wanted:
            continue
        result.files.append(file)
        count = 0
        for sample in iter_file(file, on_error=on_error, skipped=result.skipped, repaired=result.repaired):
            result.samples.append(sample)
            count += 1
            if check_audio:
                result.missing_audio += [(sample.id, a.path) for a in sample.audio if not resolve(root, a).is_file()]
        result.counts[file.name] = count
        done += count
        if progress is not None:
            progress(done)
    return result


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_json(value: Any) -> str:
    """Compact JSON (UTF-8 kept) as the index and the stores write it."""
    return _ENCODER.encode(value)
