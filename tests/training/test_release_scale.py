"""Rehearsal of training on a LLaSO-Align-sized release root (12M records there, 20k here).

Before step 1 a run must not hold every sample nor read every clip header: the release file is
indexed once (memory-mapped), each distinct clip's duration is read once and stored with the
index, and a second run reads neither the JSON file nor any header. A broken clip is found when
it is loaded, named in the run's problem log, and the run goes on."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
import soundfile

from llaso_core.data import index as index_mod
from llaso_core.data import release as release_mod
from llaso_core.training import run as run_mod
from llaso_core.training.config import cpu_default

RECORDS = 20_000
CLIPS = 40


def align_root(root, records=RECORDS, clips=CLIPS):
    """``text_audio/ASR_stage1_train.json`` of ``records`` ASR records over ``clips`` real WAVs,
    with the release's Windows separators."""
    rng = np.random.default_rng(0)
    for c in range(clips):
        t = np.arange(int(16000 * rng.uniform(0.3, 0.9))) / 16000
        path = root / "mls" / "audio" / f"{c}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, (0.2 * np.sin(2 * np.pi * (120 + 7 * c) * t)).astype(np.float32), 16000)
    file = root / "text_audio" / "ASR_stage1_train.json"
    file.parent.mkdir(parents=True)
    with open(file, "w", encoding="utf-8") as f:
        f.write("[")
        for i in range(records):
            record = {"index": i, "voice": [f"mls\\audio\\{i % clips}.wav"], "conversations": [
                {"from": "human", "value": f"Please transcribe the following audio clip ({i % 18}).<audio>"},
                {"from": "gpt", "value": f"the words of utterance {i} as spoken"}]}
            f.write((",\n" if i else "\n") + json.dumps(record))
        f.write("\n]\n")


class Opened:
    """Counts audio files opened through soundfile (headers and decodes) until ``stop()`` (the
    progress callback, called after step 1)."""

    def __init__(self, monkeypatch):
        self.count, self.running = 0, True
        original = soundfile.SoundFile.__init__

        def counting(sf_self, *args, **kwargs):
            if self.running:
                self.count += 1
            return original(sf_self, *args, **kwargs)

        monkeypatch.setattr(soundfile.SoundFile, "__init__", counting)

    def stop(self, _log=None):
        self.running = False


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("LLASO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(run_mod, "TOKENIZER_SAMPLES", 500)
    align_root(tmp_path / "align")
    base = cpu_default(data=str(tmp_path / "align"), tasks=("ASR",), modalities=("ta",), stages=("align",),
                       workers=0, micro_batch=4, save_init=False)
    return attrs.evolve(base, align=attrs.evolve(base.align, global_batch=4, max_steps=1))


def test_training_on_a_release_root_reads_no_sample_list_and_no_headers_before_step_1(config, tmp_path,
                                                                                      monkeypatch):
    built = []
    monkeypatch.setattr(index_mod.SampleIndex, "__getitem__", counting_rows(built))
    opened = Opened(monkeypatch)
    [first] = run_mod.train(attrs.evolve(config, out=str(tmp_path / "a")), announce=lambda m: None,
                            progress=opened.stop)
    assert first.steps == 1
    # each distinct clip's header once (durations), then step 1 decodes its 4 clips: never once per record
    assert opened.count <= CLIPS + 4
    assert index_mod.builds >= 1
    assert len(built) <= 500 + 4 * 2  # the tokenizer's spread of samples and a step's, not 20,000

    # a second run: the index and the durations are reused; no JSON parsing, no header read
    def no_json(*args, **kwargs):
        raise AssertionError("the release file was read again")

    monkeypatch.setattr(release_mod, "iter_file", no_json)
    monkeypatch.setattr(index_mod, "iter_file", no_json)
    builds = index_mod.builds
    opened = Opened(monkeypatch)
    [second] = run_mod.train(attrs.evolve(config, out=str(tmp_path / "b")), announce=lambda m: None,
                             progress=opened.stop)
    assert second.steps == 1 and index_mod.builds == builds
    assert opened.count == 4  # step 1's own clips only


def counting_rows(built):
    original = index_mod.SampleIndex.__getitem__

    def getitem(self, i):
        built.append(i)
        return original(self, i)

    return getitem


def test_a_broken_clip_is_found_when_loaded_and_named_in_the_problem_log(config, tmp_path):
    """The clip of every 40th record is broken: no check before step 1; each sample that meets it
    is left out of its step, counted in the summary and named (path, sample id, reason)."""
    (tmp_path / "align" / "mls" / "audio" / "7.wav").write_bytes(b"RIFF but not a wave file")
    cfg = attrs.evolve(config, out=str(tmp_path / "run"), micro_batch=40,
                       align=attrs.evolve(config.align, global_batch=80, max_steps=2))
    [result] = run_mod.train(cfg, announce=lambda m: None)
    assert result.steps == 2 and result.dropped_samples > 0
    lines = [json.loads(l) for l in (tmp_path / "run" / "problems.jsonl").read_text().splitlines()]
    assert len(lines) == result.dropped_samples
    for line in lines:
        assert line["path"].endswith("mls/audio/7.wav") and line["kind"] == "corrupt" and line["reason"]
        assert int(line["sample_id"].rsplit(":", 1)[1]) % CLIPS == 7
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary[0]["dropped_samples"] == result.dropped_samples


@pytest.mark.parametrize("policy", ["truncate", "skip"])
def test_a_long_clip_is_cut_or_left_out_and_named_in_the_problem_log(config, tmp_path, policy):
    """A 40 s clip under the default length policy is cut to 30 s: its samples still train and every
    load of it is named in the problem log as altered, and announced. Under ``long_audio="skip"``
    its samples are left out of their steps and named as too long."""
    t = np.arange(40 * 16000) / 16000
    soundfile.write(tmp_path / "align" / "mls" / "audio" / "7.wav", (0.2 * np.sin(2 * np.pi * 150 * t))
                    .astype(np.float32), 16000)
    cfg = attrs.evolve(config, out=str(tmp_path / "run"), micro_batch=40, long_audio=policy,
                       align=attrs.evolve(config.align, global_batch=80, max_steps=2))
    said: list[str] = []
    [result] = run_mod.train(cfg, announce=said.append)
    lines = [json.loads(l) for l in (tmp_path / "run" / "problems.jsonl").read_text().splitlines()]
    assert lines and all(l["path"].endswith("mls/audio/7.wav") for l in lines)
    assert result.steps == 2
    if policy == "truncate":
        assert result.dropped_samples == 0
        assert all(l["kind"] == "altered" and "to 30.0 s" in l["reason"] for l in lines)
        assert any(m.startswith(f"audio altered: {len(lines)} clip load(s)") for m in said)
    else:
        assert result.dropped_samples == len(lines) > 0
        assert all(l["kind"] == "too_long" for l in lines)


def _rank(rank, port, config, out):
    from llaso_core.data import lengths as lengths_mod
    from tests.training.conftest import end_rank, join_two_rank_launch

    join_two_rank_launch(rank, port)
    reads = []
    original = lengths_mod.clip_seconds
    lengths_mod.clip_seconds = lambda path: reads.append(path) or original(path)
    [result] = run_mod.train(config, announce=lambda m: None)
    (out / f"rank{rank}.json").write_text(json.dumps({"builds": index_mod.builds, "header_reads": len(reads),
                                                      "steps": result.steps}))
    end_rank()


def test_two_ranks_share_one_index_and_one_measurement_of_the_clips(config, tmp_path):
    """Under a 2-rank launch rank 0 builds the index and reads the clip headers; rank 1 opens what
    rank 0 wrote (no second build, no header read), and both train in step."""
    import torch.multiprocessing as mp

    from tests.training.conftest import free_port

    cfg = attrs.evolve(config, out=str(tmp_path / "run"), micro_batch=2,
                       align=attrs.evolve(config.align, global_batch=4, max_steps=2))
    mp.start_processes(_rank, args=(free_port(), cfg, tmp_path), nprocs=2, start_method="spawn")
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["builds"] for r in ranks] == [1, 0]
    assert [r["header_reads"] for r in ranks] == [CLIPS, 0]
    assert [r["steps"] for r in ranks] == [2, 2]
