"""Samples from a Hugging Face ``datasets`` dataset with an ``Audio`` column.

``load_hf`` reads a local dataset (``save_to_disk`` folder) or a hub/local ``load_dataset``
name, decodes each clip with soundfile (the ``Audio`` column is read undecoded, so torchcodec is
not needed), mixes it to mono, resamples it to 16 kHz (``audio.resample``) and writes it as a
WAV file (``audio.save_wav``) under ``audio_dir``; samples keep the WAV paths (relative to
``root``, default ``audio_dir``), like release samples keep theirs.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from llaso_core.query import AudioRef, assemble

from .sample import SPLITS, Sample, Split

SAMPLE_RATE = 16_000
DEFAULT_COLUMNS: dict[str, str | None] = {"audio": "audio", "target": "text", "instruction": None, "input": None,
                                          "id": None}


class HFDataError(ValueError):
    """The dataset does not have what was asked for; the message names dataset, column or row."""


def _open(name_or_path: str | os.PathLike[str], split: str) -> Any:
    import datasets

    path = Path(name_or_path)
    if path.is_dir() and ((path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()
                          or (path / "state.json").is_file()):
        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise HFDataError(f"{path}: no split {split!r} (has {', '.join(ds)})")
            ds = ds[split]
        return ds
    return datasets.load_dataset(str(name_or_path), split=split)


def decode_audio(value: Any, *, where: str = "") -> tuple[Any, int]:
    """(mono float32 array, sampling rate) of an ``Audio`` value: ``{"bytes", "path"}`` undecoded,
    ``{"array", "sampling_rate"}`` decoded, or a path."""
    import numpy as np
    from llaso_core.data.sndfile import sf

    if isinstance(value, (str, os.PathLike)):
        value = {"path": str(value), "bytes": None}
    if not isinstance(value, Mapping):
        raise HFDataError(f"{where}: not an audio value: {type(value).__name__}")
    if value.get("array") is not None:
        array, rate = np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"])
    else:
        source = io.BytesIO(value["bytes"]) if value.get("bytes") else value.get("path")
        if not source:
            raise HFDataError(f"{where}: the audio value has neither bytes nor a path")
        try:
            array, rate = sf.read(source, dtype="float32", always_2d=True)
        except Exception as exc:
            raise HFDataError(f"{where}: cannot decode audio {value.get('path') or '<bytes>'}: {exc}") from None
        array = array.T  # (channels, frames)
    if array.ndim == 2:  # (channels, frames) -> mono
        array = array.mean(axis=0)
    return array, rate


def _target(value: Any, feature: Any) -> str:
    import datasets

    if isinstance(feature, datasets.ClassLabel) and isinstance(value, int):
        return feature.int2str(value)
    return value if isinstance(value, str) else str(value)


def iter_hf(name_or_path: str | os.PathLike[str], split: str = "train", *, task: str, source: str, modality: str,
            columns: Mapping[str, str | None] | None = None, audio_dir: str | os.PathLike[str],
            root: str | os.PathLike[str] | None = None, sample_split: Split | None = None, host: Any = None,
            metadata_columns: list[str] | None = None, overwrite: bool = False, limit: int | None = None,
            seed: int = 0) -> Iterator[Sample]:
    """Samples of one split, one at a time (see ``load_hf``)."""
    import datasets
    import numpy as np

    from llaso_core.data.audio import resample, save_wav
    from llaso_core.prompts import instruction_text

    if host is None:
        from llaso_core.loader import get_host
        host = get_host()
    if task not in host.tasks:
        raise HFDataError(f"unknown task {task!r}")
    task_spec = host.tasks.get(task)
    if modality not in host.modalities:
        raise HFDataError(f"unknown modality {modality!r}")
    if modality not in task_spec.modalities:
        raise HFDataError(f"task {task_spec.id} does not come in modality {modality!r} "
                          f"(it has {', '.join(task_spec.modalities)})")
    mod = host.modalities.get(modality)
    found = host.source_of(source)
    source_spec = found[1] if found is not None and found[0].id == task_spec.id else None
    cols = {**DEFAULT_COLUMNS, **(columns or {})}
    sample_split = sample_split or ("train" if split.startswith("train") else "eval")

    ds = _open(name_or_path, split)
    where = f"{name_or_path}[{split}]"
    for role in ("audio", "target", "instruction", "input", "id"):
        if cols.get(role) is not None and cols[role] not in ds.column_names:
            raise HFDataError(f"{where}: no column {cols[role]!r} for the {role} "
                              f"(columns: {', '.join(ds.column_names)})")
    if cols["audio"] is None or cols["target"] is None:
        raise HFDataError(f"{where}: the audio and target columns are required")
    audio_col, target_col = cols["audio"], cols["target"]
    if isinstance(ds.features[audio_col], datasets.Audio):
        ds = ds.cast_column(audio_col, datasets.Audio(decode=False))
    target_feature = ds.features[target_col]
    used = {c for c in cols.values() if c is not None}
    if metadata_columns is None:
        metadata_columns = [c for c, f in ds.features.items()
                            if c not in used and isinstance(f, (datasets.Value, datasets.ClassLabel))]
    instruction_slot = mod.slot("instruction") or mod.slot("request")
    audio_instruction = instruction_slot is not None and instruction_slot.medium == "audio"

    audio_dir = Path(audio_dir)
    root = Path(root) if root is not None else audio_dir
    out_dir = audio_dir / source / split
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(ds):
        if limit is not None and i >= limit:
            break
        sample_id = f"{source}:{split}:{row[cols['id']] if cols['id'] else i}"
        wav = out_dir / f"{i:08d}.wav"
        if overwrite or not wav.is_file():
            array, rate = decode_audio(row[audio_col], where=f"{where} row {i}")
            if not np.isfinite(array).all():
                raise HFDataError(f"{where} row {i}: the audio has NaN or infinite samples")
            save_wav(wav, resample(array, rate, SAMPLE_RATE), SAMPLE_RATE)
        try:
            rel = wav.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = str(wav.resolve())
        ref = AudioRef(rel)
        template_id = None
        instruction: Any
        text_input = row[cols["input"]] if cols["input"] else None
        if audio_instruction:
            instruction, text_input = ref, text_input if text_input is not None else (
                row[cols["instruction"]] if cols["instruction"] else None)
        else:
            if cols["instruction"]:
                instruction = row[cols["instruction"]]
            else:
                template_id, instruction = instruction_text(task_spec, source_spec, key=sample_id,
                                                            split=sample_split, seed=seed)
            text_input = ref
        query = assemble(mod, instruction=instruction, input=text_input)
        yield Sample(id=sample_id, task=task_spec.id, source=source, query=query,
                     target=_target(row[target_col], target_feature), split=sample_split,
                     template_id=template_id,
                     metadata={c: _target(row[c], ds.features[c]) if isinstance(ds.features[c], datasets.ClassLabel)
                               else row[c] for c in metadata_columns if row[c] is not None})


def load_hf(name_or_path: str | os.PathLike[str], split: str = "train", *, task: str, source: str,
            modality: str, columns: Mapping[str, str | None] | None = None, audio_dir: str | os.PathLike[str],
            **kwargs: Any) -> list[Sample]:
    """Samples of a Hugging Face dataset split with an ``Audio`` column.

    ``columns`` maps roles to column names: ``audio`` (default "audio"), ``target`` (default
    "text"), optional ``instruction`` (text instruction; else one of the task's templates is
    picked per sample and recorded in ``template_id``), ``input`` (the text input of an ``at``
    sample) and ``id``. ``ClassLabel`` targets become label names. Other plain columns are kept
    as metadata (or ``metadata_columns``). WAV files go to ``audio_dir/<source>/<split>/`` and are
    reused unless ``overwrite``; ``sample_split`` defaults to train for ``train*`` splits, else
    eval. Other options: ``root``, ``host``, ``limit``, ``seed``."""
    return list(iter_hf(name_or_path, split, task=task, source=source, modality=modality, columns=columns,
                        audio_dir=audio_dir, **kwargs))


#: text roles the ``save_hf`` layout has a column for (each query has at most one of each)
TEXT_ROLES = ("instruction", "input", "cue")


def hf_row(sample: Sample, root: str | os.PathLike[str]) -> dict[str, Any]:
    """One sample as a row of the ``save_hf`` layout: the clip's bytes in ``audio``, the text
    segments by role, the rest as plain columns (``metadata`` as JSON)."""
    import json

    from llaso_core.data.release import resolve
    from llaso_core.query import TextSegment

    if len(sample.audio) != 1:
        raise HFDataError(f"sample {sample.id}: the hf layout holds one clip per sample, it has {len(sample.audio)}")
    texts: dict[str, str | None] = dict.fromkeys(TEXT_ROLES)
    audio_role = ""
    for segment in sample.query.segments:
        if not isinstance(segment, TextSegment):
            audio_role = segment.role
        elif segment.role in texts:
            texts[segment.role] = segment.text
        else:
            raise HFDataError(f"sample {sample.id}: no hf column for its {segment.role!r} text "
                              f"(columns: {', '.join(TEXT_ROLES)})")
    ref = sample.audio[0]
    path = resolve(root, ref)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HFDataError(f"sample {sample.id}: cannot read its audio {path}: {exc.strerror or exc}") from None
    return {"id": sample.id, "task": sample.task, "source": sample.source, "modality": sample.modality,
            "template_id": sample.template_id, **texts, "audio": {"bytes": data, "path": path.name},
            "audio_role": audio_role, "transcript": ref.transcript, "target": sample.target,
            "metadata": json.dumps(sample.metadata, ensure_ascii=False)}


def save_hf(samples: list[Sample], root: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, int]:
    """Write ``samples`` as a ``datasets.DatasetDict`` (``save_to_disk``) in ``out``: one split per
    sample split (``train``, ``eval``), an ``Audio`` column holding each clip's file bytes (paths
    resolved against ``root``), the text segments by role, ``target`` and the sample's task,
    source, modality, template and metadata. Returns the rows per split. :func:`load_hf` reads it
    back with ``columns={"target": "target", "instruction": "instruction", "id": "id"}``."""
    import tempfile

    import datasets

    string = datasets.Value("string")
    features = datasets.Features({
        "id": string, "task": string, "source": string, "modality": string, "template_id": string,
        **{role: string for role in TEXT_ROLES}, "audio": {"bytes": datasets.Value("binary"), "path": string},
        "audio_role": string, "transcript": string, "target": string, "metadata": string})
    audio = datasets.Audio(sampling_rate=SAMPLE_RATE)  # cast from the stored struct: no encoder needed
    splits = sorted({s.split for s in samples}, key=SPLITS.index)
    with tempfile.TemporaryDirectory(prefix="llaso-hf-") as cache:
        def rows(split: str) -> Iterator[dict[str, Any]]:
            for sample in samples:
                if sample.split == split:
                    yield hf_row(sample, root)

        try:
            built = datasets.DatasetDict({
                split: datasets.Dataset.from_generator(rows, gen_kwargs={"split": split}, features=features,
                                                       cache_dir=cache).cast_column("audio", audio)
                for split in splits})
        except datasets.exceptions.DatasetGenerationError as exc:  # wraps what a row raised
            if isinstance(exc.__cause__, HFDataError):
                raise exc.__cause__ from None
            raise
        built.save_to_disk(str(out))
        return {split: len(ds) for split, ds in built.items()}
