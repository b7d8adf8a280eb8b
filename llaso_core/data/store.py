"""Reading and writing samples: llaso's JSON Lines format and the LLaSO release layout.

- ``write_samples`` / ``read_samples``: one ``Sample.to_dict()`` per line; writing is atomic
  (a temporary file renamed into place), reading is streamed and errors name file and line.
- ``to_llaso_files`` / ``from_llaso_files``: one ``<source>_<train|test>.json`` list per source and
  split, the layout the LLaSO release and its scripts use; reading goes through ``release.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .release import (
    MODALITY_FOLDERS, UTF8_BOM, OnError, ReleaseResult, SkippedRecord, dump_json, load_release, not_text,
)
from .sample import Sample, Split

#: Sample split -> the release's file-name suffix.
SPLIT_SUFFIXES: dict[str, str] = {"train": "train", "eval": "test"}
FOLDERS = {modality: folder for folder, modality in MODALITY_FOLDERS.items()}


class StoreError(ValueError):
    """A sample file cannot be read or written; the message names the file (and line)."""


def _tmp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_samples(path: str | os.PathLike[str], samples: Iterable[Sample]) -> int:
    """Write samples as JSON Lines, atomically (a reader never sees a half-written file).
    Returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_for(path)
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for sample in samples:
                f.write(dump_json(sample.to_dict()))
                f.write("\n")
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def read_samples(path: str | os.PathLike[str], *, on_error: OnError = "raise",
                 skipped: list[SkippedRecord] | None = None) -> Iterator[Sample]:
    """Samples of a JSON Lines file, one at a time; blank lines and a UTF-8 byte-order mark are
    ignored. A bad line raises ``StoreError`` naming file and line, or under ``on_error="skip"`` is
    appended to ``skipped`` (``unit="line"``) and left out."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        problem = SkippedRecord(path, 0, f"cannot open: {exc.strerror or exc}", unit="line")
        if on_error == "raise":
            raise StoreError(f"{path}: {problem.reason}") from None
        if skipped is not None:
            skipped.append(problem)
        return
    with f:
        offset = 0
        for line_no, raw in enumerate(f, 1):
            start, offset = offset, offset + len(raw)
            if line_no == 1:
                raw = raw.removeprefix(UTF8_BOM)
            try:
                if line_no == 1 and raw.strip() in (b"[", b"{"):
                    raise _NotJsonLines(f"the file is one JSON document spread over lines (it starts with "
                                        f"{raw.strip().decode()!r}), not JSON Lines (one sample object per line)")
                sample = _parse_line(raw, start)
            except ValueError as exc:
                if on_error == "raise":
                    raise StoreError(f"{path}:{line_no}: {exc}") from None
                if skipped is not None:
                    skipped.append(SkippedRecord(path, line_no, str(exc), unit="line"))
                if isinstance(exc, _NotJsonLines):
                    return
                continue
            if sample is not None:
                yield sample


class _NotJsonLines(ValueError):
    """The file is not JSON Lines at all: nothing past line 1 is read."""


def _parse_line(raw: bytes, offset: int) -> Sample | None:
    """One JSON Lines line as a sample (None for a blank line); ValueError says what is wrong."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at byte offset {offset + exc.start}") from None
    if not line.strip():
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if "target" in data and not isinstance(data["target"], str):
        raise ValueError(not_text("'target'", data["target"]))
    return Sample.from_dict(data)


def llaso_record(sample: Sample, *, with_id: bool = True) -> dict[str, Any]:
    """The release record of a sample: its metadata keys at the top level (as ingested from the
    release), then ``voice`` and ``conversations``; ``id`` is the record's own id if the metadata
    has one, else the sample id (``with_id``)."""
    shape = sample.to_llaso()
    record: dict[str, Any] = {}
    if with_id and "id" not in sample.metadata:
        record["id"] = sample.id
    record.update({k: v for k, v in sample.metadata.items() if k not in ("voice", "conversations")})
    record["voice"] = shape["voice"]
    record["conversations"] = shape["conversations"]
    return record


def llaso_file_name(source: str, split: Split | str) -> str:
    """``vctk_gender_classification`` + eval -> ``vctk_gender_classification_test.json``."""
    try:
        return f"{source}_{SPLIT_SUFFIXES[split]}.json"
    except KeyError:
        raise StoreError(f"unknown split {split!r} (expected train or eval)") from None


def to_llaso_files(samples: Iterable[Sample], out_dir: str | os.PathLike[str], *, by_modality: bool = False,
                   with_id: bool = True) -> dict[Path, int]:
    """Write samples in the release layout, one JSON list per source and split
    (``<source>_train.json`` / ``<source>_test.json``), streamed and atomic per file.

    ``by_modality`` puts each file under ``text_audio/``, ``audio_text/`` or ``pure_audio/`` (as
    LLaSO-Instruct on Hugging Face), which also keeps the modality of pure-audio samples whose
    cue is not a registered one. Returns {file: samples written}."""
    out = Path(out_dir)
    open_files: dict[Path, tuple[Path, IO[str]]] = {}
    counts: dict[Path, int] = {}
    try:
        for sample in samples:
            name = llaso_file_name(sample.source, sample.split)
            target = out / FOLDERS.get(sample.modality, sample.modality) / name if by_modality else out / name
            if target not in open_files:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = _tmp_for(target)
                f = open(tmp, "w", encoding="utf-8")
                f.write("[\n")
                open_files[target] = (tmp, f)
                counts[target] = 0
            f = open_files[target][1]
            if counts[target]:
                f.write(",\n")
            f.write(json.dumps(llaso_record(sample, with_id=with_id), ensure_ascii=False))
            counts[target] += 1
        for target, (tmp, f) in open_files.items():
            f.write("\n]\n")
            f.close()
            os.replace(tmp, target)
        open_files.clear()
    finally:
        for tmp, f in open_files.values():  # an error: leave nothing half-written behind
            f.close()
            tmp.unlink(missing_ok=True)
    return counts


def from_llaso_files(root: str | os.PathLike[str], **kwargs: Any) -> ReleaseResult:
    """Samples of a folder in the release layout (see ``release.load_release`` for the options);
    the result iterates over the samples and lists unknown files and skipped records."""
    return load_release(root, **kwargs)
