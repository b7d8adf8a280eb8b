"""``load_data``: one way in for train, eval and the feature cache (unified files, release roots
through the memory-mapped index, ``hf:`` datasets), and lengths measured once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from llaso_core.data import lengths as lengths_mod
from llaso_core.data.index import SampleIndex
from llaso_core.data.load import DataError, SampleList, load_data, parse_hf
from llaso_core.data.release import load_release


def test_a_release_root_is_read_through_the_index(release_layout, release_host, release_cache, monkeypatch):
    root, expected = release_layout
    view = load_data(root, split="train", host=release_host, announce=lambda m: None)
    assert isinstance(view.source, SampleIndex) and view.root == root
    wanted = [s for s in load_release(root, host=release_host) if s.split == "train"]
    assert list(view) == wanted and view[3] == wanted[3] and view[1:4] == wanted[1:4]
    narrowed = view.select(task={"SGC"})
    assert list(narrowed) == [s for s in wanted if s.task == "SGC"] and len(narrowed) > 0
    only_ta = load_data(root, split="eval", tasks=["SGC", "ASR"], modalities=["ta"], host=release_host,
                        announce=lambda m: None)
    assert list(only_ta) == [s for s in load_release(root, host=release_host)
                             if s.split == "eval" and s.task in ("SGC", "ASR") and s.modality == "ta"]
    # clip durations: read once from the headers, stored beside the index, reused by later processes
    lengths = view.lengths()
    assert np.allclose(lengths.seconds, [0.05 * len(s.audio) for s in wanted], atol=1e-4)
    assert list(lengths.text_chars) == [sum(len(getattr(seg, "text", "")) for seg in s.query.segments)
                                        + len(s.target) for s in wanted]
    assert len(list(release_cache.glob("*.lengths-*.npz"))) == len(view.source.paths)  # one per indexed file

    def no_header_reads(path):
        raise AssertionError(f"header of {path} read again")

    monkeypatch.setattr(lengths_mod, "clip_seconds", no_header_reads)
    again = load_data(root, split="train", host=release_host, announce=lambda m: None)
    assert not again.source.built
    np.testing.assert_array_equal(again.lengths().seconds, lengths.seconds)
    np.testing.assert_array_equal(again.select(task={"SGC"}).lengths().seconds,
                                  lengths.seconds[[i for i, s in enumerate(wanted) if s.task == "SGC"]])


def test_bad_data_arguments_name_the_problem(tmp_path, release_host):
    with pytest.raises(DataError, match="is not a folder"):
        load_data(tmp_path / "nope", host=release_host)
    with pytest.raises(DataError, match="which task"):
        parse_hf("hf:some/dataset@train")
    with pytest.raises(DataError, match="unknown option.*colour"):
        parse_hf("hf:x?task=ASR&colour=red")
    assert parse_hf("hf:/data/ds@test?task=ASR&target=sentence") == ("/data/ds", "test",
                                                                      {"task": "ASR", "target": "sentence"})


@pytest.fixture
def hf_dataset(tmp_path, monkeypatch):
    """A local ``save_to_disk`` dataset with an ``Audio`` column (44.1 kHz clips, a ``sentence``
    column), train and test splits; the llaso cache in the test folder."""
    import datasets

    monkeypatch.setenv("LLASO_CACHE_DIR", str(tmp_path / "cache"))
    rows = {"audio": [], "sentence": [], "speaker": []}
    for i in range(6):
        t = np.arange(int(44100 * (0.3 + 0.1 * i))) / 44100
        path = tmp_path / "src" / f"c{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, (0.2 * np.sin(2 * np.pi * (200 + 40 * i) * t)).astype(np.float32), 44100)
        rows["audio"].append({"bytes": path.read_bytes(), "path": path.name})
        rows["sentence"].append(f"clip number {i}")
        rows["speaker"].append(f"s{i % 2}")
    ds = datasets.Dataset.from_dict(rows).cast_column("audio", datasets.Audio())
    datasets.DatasetDict({"train": ds, "test": ds.select(range(3))}).save_to_disk(str(tmp_path / "hf"))
    return tmp_path / "hf"


def test_hf_data_is_accepted_wherever_data_is_taken(hf_dataset, tmp_path):
    """``--data hf:PATH[@split]?task=...&target=COLUMN`` in data inspect and convert, features cache,
    train and eval: one data-layer function reads it (clips written once as 16 kHz WAVs)."""
    from llaso_cli.app import app

    spec = f"hf:{hf_dataset}?task=ASR&target=sentence"
    view = load_data(spec, host=None, announce=lambda m: None)
    assert isinstance(view.source, SampleList) and len(view) == 6
    assert [s.target for s in view] == [f"clip number {i}" for i in range(6)]
    assert all(s.task == "ASR" and s.modality == "ta" and s.query.text_of("instruction") for s in view)
    for s in view:
        wave, rate = sf.read(view.root / s.audio[0].path)
        assert rate == 16000 and wave.ndim == 1
    assert len(load_data(spec.replace("?", "@test?"), split="eval", announce=lambda m: None)) == 3

    runner = CliRunner()
    inspected = runner.invoke(app, ["data", "inspect", spec, "--json"])
    assert inspected.exit_code == 0, inspected.output
    report = json.loads(inspected.stdout)
    assert report["samples"] == 6 and report["by_task"] == {"ASR": 6} and report["audio"]["problem_total"] == 0
    converted = runner.invoke(app, ["data", "convert", spec, "--to", "unified", "--out", str(tmp_path / "uni")])
    assert converted.exit_code == 0 and len((tmp_path / "uni" / "train.jsonl").read_text().splitlines()) == 6

    run = tmp_path / "run"
    trained = runner.invoke(app, ["train", "--data", spec, "--preset", "cpu", "--tasks", "ASR", "--modalities", "ta",
                                  "--stage", "instruct", "--max-steps", "1", "--micro-batch", "2", "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    assert json.loads((run / "summary.json").read_text())[0]["steps"] == 1
    cached = runner.invoke(app, ["features", "cache", "--model", str(run / "instruct" / "final"), "--data", spec,
                                 "--out", str(tmp_path / "frames"), "--tasks", "ASR", "--modalities", "ta"])
    assert cached.exit_code == 0 and "6 clip(s) encoded" in cached.output, cached.output
    evaluated = runner.invoke(app, ["eval", "--model", str(run / "instruct" / "final"), "--out", str(tmp_path / "ev"),
                                    "--data", spec.replace("?", "@test?"), "--tasks", "ASR", "--modalities", "ta"])
    assert evaluated.exit_code == 0, evaluated.output
    rows = [json.loads(line) for line in (tmp_path / "ev" / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["reference"] for r in rows) == [f"clip number {i}" for i in range(3)]

    bad = runner.invoke(app, ["data", "inspect", f"hf:{hf_dataset}?task=ASR&target=nope"])
    assert bad.exit_code != 0 and "no column 'nope'" in bad.output and "Traceback" not in bad.output
    unknown = runner.invoke(app, ["eval", "--model", str(run / "instruct" / "final"), "--out", str(tmp_path / "e2"),
                                  "--data", f"hf:{Path(hf_dataset)}?task=ASRR"])
    assert unknown.exit_code == 2 and "ASRR" in unknown.output


def test_task_weights_repeat_and_thin_a_view_per_task(release_layout, release_host, release_cache):
    root, _ = release_layout
    view = load_data(root, split="train", host=release_host, announce=lambda m: None)
    by_task = {t: [s.id for s in view if s.task == t] for t in {s.task for s in view}}
    assert len(by_task) >= 2 and all(len(ids) >= 2 for ids in by_task.values())
    first, second = sorted(by_task)[:2]
    mixed = view.weighted({first: 2.0, second: 0.5}, seed=3)
    counts = {t: sum(s.task == t for s in mixed) for t in by_task}
    assert counts[first] == 2 * len(by_task[first])
    assert counts[second] == round(0.5 * len(by_task[second]))
    assert all(counts[t] == len(ids) for t, ids in by_task.items() if t not in (first, second))
    assert {s.id for s in mixed if s.task == second} < set(by_task[second])  # a share, without repeats
    again = view.weighted({first: 2.0, second: 0.5}, seed=3)
    assert [s.id for s in again] == [s.id for s in mixed]  # the seed decides the share
    assert not any(s.task == first for s in view.weighted({first: 0}))
    assert view.weighted({}) is view
    with pytest.raises(ValueError, match=">= 0"):
        view.weighted({first: -1})


def test_samples_of_unregistered_tasks_and_modalities_are_named_and_left_out(tmp_path):
    from llaso_core.testing import tone_corpus

    tone_corpus(tmp_path, n=5)
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    rows[1]["task"] = rows[3]["task"] = "ZZZ"
    rows[4]["modality"] = "xx"
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    said: list[str] = []
    samples = load_data(tmp_path, announce=said.append)
    assert [s.id for s in samples] == [rows[0]["id"], rows[2]["id"]]
    assert said == [f"3 sample(s) left out: no plugin registers their modality xx, task ZZZ (first: sample "
                    f"{rows[1]['id']}); `llaso plugins` shows what is registered"]
    said.clear()
    assert [s.id for s in load_data(tmp_path, tasks=["SGC"], modalities=["ta"], announce=said.append)] == \
        [rows[0]["id"], rows[2]["id"]]
    assert said and said[0].startswith("3 sample(s) left out")  # whatever the run selects
