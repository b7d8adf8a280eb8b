"""``llaso data convert --to hf``: a save_to_disk DatasetDict with an Audio column, read back."""

from __future__ import annotations

import io
import json

import datasets
import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from llaso_cli.app import app
from llaso_core.data.hf import load_hf
from llaso_core.data.inspect import open_dataset
from llaso_core.data.synth import synthesize_corpus
from llaso_core.query import TextSegment


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """SGC (ta, pa) and AQA (ta, at, pa): every query layout, with spoken and written parts."""
    out = tmp_path_factory.mktemp("corpus")
    synthesize_corpus(out, per_task=8, seed=1, workers=1, tasks=["SGC", "AQA"])
    return out


def test_convert_to_hf_keeps_every_sample_and_clip(corpus, tmp_path):
    result = CliRunner().invoke(app, ["data", "convert", str(corpus), "--to", "hf", "--out", str(tmp_path / "hf")])
    assert result.exit_code == 0, result.output
    dataset = open_dataset(corpus)
    samples, root = dataset.samples, dataset.root
    built = datasets.load_from_disk(str(tmp_path / "hf"))
    assert isinstance(built, datasets.DatasetDict) and set(built) == {"train", "eval"}
    assert isinstance(built["train"].features["audio"], datasets.Audio)
    by_id = {s.id: s for s in samples}
    for split, ds in built.items():
        rows = ds.cast_column("audio", datasets.Audio(decode=False))
        assert sorted(rows["id"]) == sorted(s.id for s in samples if s.split == split)
        for row in rows:
            sample = by_id[row["id"]]
            assert (row["task"], row["source"], row["modality"], row["target"], row["template_id"]) == (
                sample.task, sample.source, sample.modality, sample.target, sample.template_id)
            texts = {s.role: s.text for s in sample.query.segments if isinstance(s, TextSegment)}
            assert {r: row[r] for r in ("instruction", "input", "cue") if row[r] is not None} == texts
            assert json.loads(row["metadata"]) == sample.metadata
            clip, rate = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="float32")
            original, original_rate = sf.read(root / sample.audio[0].path, dtype="float32")
            assert rate == original_rate == 16000 and np.array_equal(clip, original)
    modalities = {row["modality"]: row["audio_role"] for ds in built.values() for row in ds.remove_columns("audio")}
    assert modalities == {"ta": "input", "at": "instruction", "pa": "request"}


def test_load_hf_reads_the_converted_dataset(corpus, tmp_path):
    CliRunner().invoke(app, ["data", "convert", str(corpus), "--to", "hf", "--out", str(tmp_path / "hf")])
    undecoded = datasets.load_from_disk(str(tmp_path / "hf"))["eval"].cast_column("audio", datasets.Audio(decode=False))
    only = undecoded.filter(lambda r: r["task"] == "SGC" and r["modality"] == "ta")
    only.save_to_disk(str(tmp_path / "sgc-ta"))
    back = load_hf(tmp_path / "sgc-ta", "eval", task="SGC", source=only[0]["source"], modality="ta",
                   columns={"target": "target", "instruction": "instruction", "id": "id"},
                   audio_dir=tmp_path / "audio")
    samples = open_dataset(corpus).samples
    expected = {s.id: s for s in samples if s.task == "SGC" and s.modality == "ta" and s.split == "eval"}
    assert len(back) == len(expected) > 0
    for sample in back:
        original = expected[sample.id.rsplit(":", 1)[1]]
        assert sample.target == original.target
        assert sample.query.text_of("instruction") == original.query.text_of("instruction")


def test_a_missing_clip_is_named(corpus, tmp_path):
    lines = (corpus / "eval.jsonl").read_text().splitlines()
    broken = tmp_path / "broken"
    broken.mkdir()
    row = json.loads(lines[0])
    row["segments"] = [{**seg, "path": "audio/nope.wav"} if seg["type"] == "audio" else seg for seg in row["segments"]]
    (broken / "eval.jsonl").write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(app, ["data", "convert", str(broken), "--to", "hf", "--out", str(tmp_path / "hf")])
    assert result.exit_code != 0
    assert f"sample {row['id']}: cannot read its audio" in result.output and "Traceback" not in result.output
