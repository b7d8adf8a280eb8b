"""Sample stores: JSON Lines, the LLaSO release layout, and a Hugging Face ``datasets`` backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from llaso_core.data.hf import HFDataError, load_hf
from llaso_core.data.release import load_release
from llaso_core.data.sample import Sample
from llaso_core.data.store import StoreError, from_llaso_files, read_samples, to_llaso_files, write_samples
from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment


def _sample(i: int, **kw) -> Sample:
    defaults = dict(id=f"s{i}", task="SGC", source="vctk_gender_classification",
                    query=Query("ta", (TextSegment("Gender? é", "instruction"), AudioSegment(AudioRef(f"a/{i}.wav"), "input"))),
                    target="male", split="eval", metadata={"speaker_id": f"p{i}", "metadata": {"age": i}})
    return Sample(**{**defaults, **kw})


def test_jsonl_round_trip(tmp_path, release_layout):
    root, _ = release_layout
    samples = load_release(root).samples
    path = tmp_path / "out" / "samples.jsonl"
    assert write_samples(path, iter(samples)) == len(samples)
    assert list(read_samples(path)) == samples
    assert [p.name for p in path.parent.iterdir()] == ["samples.jsonl"]  # no temporary file left


def test_write_is_atomic(tmp_path):
    path = tmp_path / "samples.jsonl"
    write_samples(path, [_sample(0)])

    def broken():
        yield _sample(1)
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        write_samples(path, broken())
    assert list(read_samples(path)) == [_sample(0)]  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["samples.jsonl"]


def test_read_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps(_sample(0).to_dict())
    path.write_text(f"{good}\n\n{good}\n{{not json\n", encoding="utf-8")
    reader = read_samples(path)
    assert next(reader) == _sample(0) and next(reader) == _sample(0)
    with pytest.raises(StoreError, match=r"bad.jsonl:4: malformed JSON"):
        next(reader)
    path.write_text(json.dumps({"id": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"bad.jsonl:1: sample x"):
        list(read_samples(path))
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"bad.jsonl:1: expected a JSON object"):
        list(read_samples(path))
    with pytest.raises(StoreError, match="missing.jsonl: cannot open"):
        list(read_samples(tmp_path / "missing.jsonl"))


def test_a_test_split_is_read_as_eval_and_other_splits_are_named(tmp_path):
    path = tmp_path / "data.jsonl"
    rows = [{**_sample(i).to_dict(), "split": split} for i, split in enumerate(("train", "test", "eval", "dev"))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    skipped: list = []
    samples = list(read_samples(path, on_error="skip", skipped=skipped))
    assert [s.split for s in samples] == ["train", "eval", "eval"]
    assert [r.message for r in skipped] == [f"{path}: line 4: sample {rows[3]['id']}: split 'dev' is not train or eval "
                                           "(or test)"]


def test_llaso_files_round_trip(tmp_path, release_layout):
    root, _ = release_layout
    samples = load_release(root, exclude=["merged"]).samples
    out = tmp_path / "llaso"
    counts = to_llaso_files(samples, out, by_modality=True)
    assert sum(counts.values()) == len(samples)
    assert (out / "pure_audio" / "vctk_gender_classification_train.json") in counts
    first = json.loads((out / "text_audio" / "ASR_train.json").read_text(encoding="utf-8"))
    assert first[0]["conversations"][0]["value"].endswith("<audio>") and "voice" in first[0]
    back = from_llaso_files(out)
    assert back.ok and len(back) == len(samples)
    key = lambda s: (s.source, s.split, s.modality, s.target, s.audio)  # noqa: E731
    originals = sorted(samples, key=key)
    again = sorted(back, key=key)
    for a, b in zip(originals, again):
        assert (a.task, a.source, a.split, a.query, a.target) == (b.task, b.source, b.split, b.query, b.target)
        assert {k: v for k, v in b.metadata.items() if k != "id"} == {k: v for k, v in a.metadata.items() if k != "id"}
        assert b.metadata["id"] == a.metadata.get("id", a.id)  # the record's own id, else the sample id


def test_llaso_files_flat_layout(tmp_path):
    samples = [_sample(0), _sample(1, split="train"), _sample(2), _sample(3, source="meld_ER_classification",
                                                                         task="ER", target="joy")]
    counts = to_llaso_files(samples, tmp_path)
    assert {p.name: n for p, n in counts.items()} == {
        "vctk_gender_classification_test.json": 2, "vctk_gender_classification_train.json": 1,
        "meld_ER_classification_test.json": 1}
    records = json.loads((tmp_path / "vctk_gender_classification_test.json").read_text(encoding="utf-8"))
    assert records[1] == {"id": "s2", "speaker_id": "p2", "metadata": {"age": 2}, "voice": ["a/2.wav"],
                          "conversations": [{"from": "human", "value": "Gender? é<audio>"},
                                            {"from": "gpt", "value": "male"}]}
    back = {s.id: s for s in from_llaso_files(tmp_path)}
    assert back["vctk_gender_classification_test:1"].query == samples[2].query
    with pytest.raises(StoreError, match="unknown split"):
        to_llaso_files([_sample(9, split="dev")], tmp_path / "x")
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


# -- Hugging Face -------------------------------------------------------------------------------

@pytest.fixture
def release_hf_dataset(tmp_path):
    """A local dataset with an Audio column over 22.05 kHz stereo WAVs, saved with save_to_disk.

    Built as {bytes, path} structs cast to ``Audio`` (how hub parquet files hold audio), since
    ``datasets`` needs torchcodec to encode a path column itself."""
    import datasets

    wavs = []
    for i in range(3):
        t = np.arange(2205 * (i + 1)) / 22050
        tone = 0.2 * np.sin(2 * np.pi * 300 * (i + 1) * t)
        path = tmp_path / "src" / f"clip{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, np.stack([tone, tone], axis=1).astype(np.float32), 22050)
        wavs.append(str(path))
    audio = [{"bytes": Path(wavs[0]).read_bytes(), "path": "clip0.wav"}] + [{"bytes": None, "path": w} for w in wavs[1:]]
    ds = datasets.Dataset.from_dict({"audio": audio, "text": ["hello", "good day", "bye now"],
                                     "prompt": ["Transcribe it.", "Write it down.", "What is said?"],
                                     "gender": [1, 0, 1], "speaker": ["a", "b", "c"]})
    ds = ds.cast_column("audio", datasets.Audio()).cast_column(
        "gender", datasets.ClassLabel(names=["female", "male"]))
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(tmp_path / "hf"))
    return tmp_path / "hf"


def test_load_hf_writes_16k_wavs(release_hf_dataset, tmp_path):
    audio_dir = tmp_path / "audio"
    samples = load_hf(release_hf_dataset, "test", task="ASR", source="ASR", modality="ta", audio_dir=audio_dir,
                      columns={"audio": "audio", "target": "text", "instruction": "prompt"})
    assert [s.target for s in samples] == ["hello", "good day", "bye now"]
    assert [s.id for s in samples] == ["ASR:test:0", "ASR:test:1", "ASR:test:2"]
    for i, s in enumerate(samples):
        assert (s.task, s.source, s.modality, s.split) == ("ASR", "ASR", "ta", "eval")
        assert s.query.text_of("instruction") == ["Transcribe it.", "Write it down.", "What is said?"][i]
        assert s.template_id is None and s.metadata == {"speaker": "abc"[i], "gender": ["male", "female", "male"][i]}
        (ref,) = s.audio
        assert not Path(ref.path).is_absolute()
        data, rate = sf.read(audio_dir / ref.path)
        assert rate == 16000 and data.ndim == 1 and abs(len(data) - 1600 * (i + 1)) <= 1
    assert load_hf(release_hf_dataset, "test", task="ASR", source="ASR", modality="ta", audio_dir=audio_dir,
                   columns={"target": "text", "instruction": "prompt"}) == samples  # WAVs reused


def test_load_hf_templates_class_labels_and_pure_audio(release_hf_dataset, tmp_path):
    samples = load_hf(release_hf_dataset, "train", task="SGC", source="vctk_gender_classification", modality="ta",
                      columns={"target": "gender"}, audio_dir=tmp_path / "a", metadata_columns=["speaker"])
    assert [s.target for s in samples] == ["male", "female", "male"]
    assert all(s.template_id and "male" in s.query.text_of("instruction") for s in samples)
    assert samples[0].split == "train" and samples[0].metadata == {"speaker": "a"}
    pa = load_hf(release_hf_dataset, "train", task="SGC", source="vctk_gender_classification", modality="pa",
                 columns={"target": "gender"}, audio_dir=tmp_path / "a", root=tmp_path)
    assert pa[0].modality == "pa" and pa[0].query.text_of("cue") and pa[0].audio[0].path.startswith("a/")


def test_load_hf_audio_instruction(release_hf_dataset, tmp_path):
    (sample, *_) = load_hf(release_hf_dataset, "train", task="AQA", source="dolly_instruction_0", modality="at",
                           columns={"target": "text", "input": "prompt"}, audio_dir=tmp_path / "a")
    assert sample.modality == "at" and isinstance(sample.query.segments[0], AudioSegment)
    assert sample.query.text_of("input") == "Transcribe it." and sample.to_llaso()["conversations"][0]["value"] == \
        "<audio>Transcribe it."


def test_load_hf_errors(release_hf_dataset, tmp_path):
    kw = dict(task="SGC", source="x", audio_dir=tmp_path)
    with pytest.raises(HFDataError, match="no column 'label'"):
        load_hf(release_hf_dataset, "train", modality="ta", columns={"target": "label"}, **kw)
    with pytest.raises(HFDataError, match="no split 'dev'"):
        load_hf(release_hf_dataset, "dev", modality="ta", **kw)
    with pytest.raises(HFDataError, match="does not come in modality 'at'"):
        load_hf(release_hf_dataset, "train", modality="at", **kw)
