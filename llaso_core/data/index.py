"""An on-disk, memory-mapped index of release samples, built once by streaming.

LLaSO-Align is about 12M samples in one JSON list, far too big for ``json.load``. ``open_index``
streams a release file (``ijson``) into an Arrow IPC stream file, one row per sample, in
batches, and memory-maps it; a second call with the same file (path, size, mtime) and the same
task mapping reuses it without reading the JSON again. Workers (``DataLoader`` processes) can
open the same index: pickling a ``SampleIndex`` carries only the cache file paths.

Columns: ``id, task, source, modality, segments`` (JSON), ``target, split, template_id,
metadata`` (JSON) -- the unified ``Sample`` (see ``Sample.to_dict``). The cache files are Arrow
*stream* files like the ones ``datasets`` writes, so ``SampleIndex.to_hf()`` opens them as a
``datasets.Dataset`` without a copy.

Cache: ``cache_dir`` or ``$LLASO_CACHE_DIR/index`` or ``~/.cache/llaso/index``; each index is
``<stem>-<key>.arrow`` plus ``<stem>-<key>.json`` (row count, skipped records, timings), and once
training has asked for them ``<stem>-<key>.lengths-<root>.npz`` (``SampleIndex.lengths``: audio
seconds from each distinct clip's header, read once, and text characters per row).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, overload

import numpy as np

from .release import (
    OnError,
    ReleaseError,
    ReleaseFile,
    SkippedRecord,
    dump_json,
    iter_file,
    map_file,
    resolve,
    scan_release,
)
from .lengths import HEADER_WORKERS, SampleLengths, measure, segment_items
from .sample import Sample, Split

INDEX_VERSION = 2  # 2: files that ijson rejects are read after repair (and the repairs recorded)
COLUMNS = ("id", "task", "source", "modality", "segments", "target", "split", "template_id", "metadata")
JSON_COLUMNS = ("segments", "metadata")
SKIPPED_KEPT = 1000  # skipped records listed in the sidecar (all are counted)

#: How many indexes this process has built (tests and benchmarks read it).
builds = 0


def default_cache_dir() -> Path:
    """``$LLASO_CACHE_DIR/index``, else ``~/.cache/llaso/index``."""
    base = os.environ.get("LLASO_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "llaso") / "index"


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([(c, pa.string()) for c in COLUMNS],
                     metadata={"llaso.index.version": str(INDEX_VERSION)})


def sample_row(sample: Sample) -> dict[str, str | None]:
    data = sample.to_dict()
    return {c: dump_json(data[c]) if c in JSON_COLUMNS else data[c] for c in COLUMNS}


def row_sample(row: dict[str, Any]) -> Sample:
    data = dict(row)
    for c in JSON_COLUMNS:
        data[c] = json.loads(data[c]) if data[c] is not None else None
    return Sample.from_dict(data)


# -- building -------------------------------------------------------------------------------

def cache_key(file: ReleaseFile, on_error: OnError) -> str:
    """What the cached rows depend on: the file's identity and the task mapping."""
    st = file.path.stat()
    parts = {
        "version": INDEX_VERSION, "path": str(file.path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
        "name": file.name, "task": file.task.id, "source": file.source.stem, "split": file.split,
        "modalities": [repr(m) for m in file.candidates], "on_error": on_error,
    }
    return hashlib.sha256(dump_json(parts).encode()).hexdigest()[:20]


def build_part(file: ReleaseFile, arrow_path: Path, *, on_error: OnError = "raise", batch_size: int = 8192,
               progress: Callable[[int], None] | None = None, done_before: int = 0) -> dict[str, Any]:
    """Stream ``file`` into ``arrow_path`` (atomically) and write its sidecar; returns the sidecar."""
    import pyarrow as pa

    global builds
    schema = _schema()
    arrow_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = arrow_path.with_name(f".{arrow_path.name}.{os.getpid()}.tmp")
    skipped: list[SkippedRecord] = []
    repaired: list[str] = []
    started = time.perf_counter()
    rows = 0
    columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}

    def flush(writer: Any) -> None:
        if columns["id"]:
            writer.write_batch(pa.record_batch([pa.array(columns[c], pa.string()) for c in COLUMNS], schema=schema))
            for values in columns.values():
                values.clear()

    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
            for sample in iter_file(file, on_error=on_error, skipped=skipped, repaired=repaired):
                for c, v in sample_row(sample).items():
                    columns[c].append(v)
                rows += 1
                if rows % batch_size == 0:
                    flush(writer)
                    if progress is not None:
                        progress(done_before + rows)
            flush(writer)
        meta = {
            "version": INDEX_VERSION, "file": str(file.path), "name": file.name, "task": file.task.id,
            "source": file.source.stem, "split": file.split, "rows": rows, "skipped_count": len(skipped),
            "skipped": [s.to_dict() for s in skipped[:SKIPPED_KEPT]], "repaired": repaired, "on_error": on_error,
            "built_at": time.time(), "seconds": round(time.perf_counter() - started, 3),
        }
        meta_path = arrow_path.with_suffix(".json")
        meta_tmp = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
        meta_tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(tmp, arrow_path)
        os.replace(meta_tmp, meta_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    builds += 1
    if progress is not None:
        progress(done_before + rows)
    return meta


# -- the index ----------------------------------------------------------------------------------

class SampleIndex(Sequence[Sample]):
    """Samples of one or more indexed release files, memory-mapped; ``index[i]`` is a ``Sample``.

    ``built`` is true when this call had to build (some of) it; ``unknown`` lists files of a
    folder whose stem no task declares; ``skipped`` the malformed records left out."""

    def __init__(self, arrow_paths: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str], *,
                 built: bool = False, unknown: Sequence[Path] = ()) -> None:
        self.paths = [Path(p) for p in arrow_paths]
        self.root = Path(root)
        self.built = built
        self.unknown = list(unknown)
        self._open()

    def _open(self) -> None:
        import pyarrow as pa

        self._batches: list[Any] = []
        self._starts: list[int] = []
        total = 0
        for path in self.paths:
            reader = pa.ipc.open_stream(pa.memory_map(str(path), "r"))
            for batch in reader:
                if batch.num_rows:
                    self._batches.append(batch)
                    self._starts.append(total)
                    total += batch.num_rows
        self._len = total

    def __getstate__(self) -> dict[str, Any]:
        return {"paths": [str(p) for p in self.paths], "root": str(self.root), "built": self.built,
                "unknown": [str(p) for p in self.unknown]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.paths = [Path(p) for p in state["paths"]]
        self.root = Path(state["root"])
        self.built = state["built"]
        self.unknown = [Path(p) for p in state["unknown"]]
        self._open()

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._len))]
        return row_sample(self.row(i))

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as stored (JSON columns still strings)."""
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"sample index {i} out of range for an index of {self._len}")
        b = bisect.bisect_right(self._starts, i) - 1
        return self._batches[b].slice(i - self._starts[b], 1).to_pylist()[0]

    def __iter__(self) -> Iterator[Sample]:
        for batch in self._batches:
            for row in batch.to_pylist():
                yield row_sample(row)

    @property
    def table(self) -> Any:
        """All rows as one ``pyarrow.Table`` (zero-copy over the memory maps)."""
        import pyarrow as pa

        return pa.Table.from_batches(self._batches, schema=_schema()) if self._batches else _schema().empty_table()

    def column(self, name: str) -> list[Any]:
        """One column as Python values (e.g. ``task`` for filtering)."""
        return self.table.column(name).to_pylist()

    def meta(self) -> list[dict[str, Any]]:
        """The sidecar of each part (rows, skipped records, build time)."""
        return [json.loads(p.with_suffix(".json").read_text(encoding="utf-8")) for p in self.paths]

    @property
    def skipped(self) -> list[SkippedRecord]:
        return [SkippedRecord(Path(s["path"]), s["index"], s["reason"]) for m in self.meta() for s in m["skipped"]]

    @property
    def repaired(self) -> list[str]:
        """What reading the files needed (see ``release.iter_records``): one note per repaired file."""
        return [note for m in self.meta() for note in m.get("repaired", ())]

    @property
    def skipped_count(self) -> int:
        return sum(m["skipped_count"] for m in self.meta())

    def resolve(self, ref: Any) -> Path:
        """An audio reference (or path) of one of the samples, on disk."""
        return resolve(self.root, ref)

    def positions(self, **allowed: Iterable[str] | None) -> np.ndarray:
        """Row numbers whose columns hold allowed values (``task={"ASR"}, split={"train"}``; None:
        any), computed on the Arrow columns without building samples."""
        return np.flatnonzero(self.mask(**allowed))

    def mask(self, **allowed: Iterable[str] | None) -> np.ndarray:
        """One bool per row: its columns hold allowed values (as ``positions``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        keep = np.ones(self._len, dtype=bool)
        for column, values in allowed.items():
            if values is not None and self._len:
                chosen = pc.is_in(self.table.column(column), value_set=pa.array(sorted(values), pa.string()))
                keep &= chosen.to_numpy(zero_copy_only=False)
        return keep

    def lengths(self, *, workers: int = HEADER_WORKERS) -> SampleLengths:
        """Audio seconds and text characters of every row: clip headers read once (each distinct
        clip once), stored beside the index for ``root`` and reused by later calls and processes."""
        parts = []
        for path in self.paths:
            key = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
            sidecar = path.with_name(f"{path.stem}.lengths-{key}.npz")
            if sidecar.is_file():
                parts.append(SampleLengths.load(sidecar))
                continue
            import pyarrow as pa

            reader = pa.ipc.open_stream(pa.OSFile(str(path), "r"))  # read, not mapped: the pages stay out of RSS
            items = (item for batch in reader for item in segment_items(
                batch.column("segments").to_pylist(), batch.column("target").to_pylist()))
            measured = measure(items, self.root, workers=workers)
            measured.save(sidecar)
            parts.append(measured)
        if not parts:
            return SampleLengths(np.zeros(0, np.float32), np.zeros(0, np.int32), 0)
        return SampleLengths(np.concatenate([p.seconds for p in parts]),
                             np.concatenate([p.text_chars for p in parts]), sum(p.clips for p in parts))

    def to_hf(self) -> Any:
        """The index as a memory-mapped ``datasets.Dataset`` (same columns)."""
        import datasets

        parts = [datasets.Dataset.from_file(str(p)) for p in self.paths]
        return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def open_index(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
               cache_dir: str | os.PathLike[str] | None = None, *, host: Any = None, on_error: OnError = "raise",
               progress: Callable[[int], None] | None = None, rebuild: bool = False, batch_size: int = 8192,
               default_split: Split | None = "train") -> SampleIndex:
    """Index a release JSON file (or every mapped file of a folder) and open it memory-mapped.

    ``root`` is the dataset root that audio paths and sample ids are relative to (default: the
    folder, or the file's folder). A file whose stem no task declares is an error; in a folder
    such files are listed in ``index.unknown``. ``progress(records_done)`` is called once per
    batch while building. ``rebuild`` ignores a cached index."""
    path = Path(path)
    if not path.exists():
        raise ReleaseError(f"{path}: no such file or folder")
    root = Path(root) if root is not None else (path if path.is_dir() else path.parent)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if path.is_dir():
        files, unknown = scan_release(path, host=host, default_split=default_split)
        if root != path:  # ids relative to the given root
            files = [map_file(f.path, root, host=host, default_split=default_split) for f in files]  # type: ignore[misc]
    else:
        mapped = map_file(path, root, host=host, default_split=default_split)
        if mapped is None:
            from llaso_core.evaluation.predictions import stem_of
            raise ReleaseError(f"{path}: no task declares the source stem {stem_of(path)!r}")
        files, unknown = [mapped], []
    arrow_paths: list[Path] = []
    built = False
    done = 0
    for file in files:
        arrow = cache / f"{file.stem}-{cache_key(file, on_error)}.arrow"
        if rebuild or not (arrow.is_file() and arrow.with_suffix(".json").is_file()):
            meta = build_part(file, arrow, on_error=on_error, batch_size=batch_size, progress=progress,
                              done_before=done)
            built = True
        else:
            meta = json.loads(arrow.with_suffix(".json").read_text(encoding="utf-8"))
            if progress is not None:
                progress(done + meta["rows"])
        done += meta["rows"]
        arrow_paths.append(arrow)
    return SampleIndex(arrow_paths, root, built=built, unknown=unknown)
