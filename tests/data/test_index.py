"""The streaming, memory-mapped sample index: equal to the streamed samples, built once."""

from __future__ import annotations

import json
import os
import pickle
import random

import pytest

from llaso_core.data import index as index_mod
from llaso_core.data.index import default_cache_dir, open_index
from llaso_core.data.release import ReleaseError, ReleaseRecordError, iter_file, load_release, map_file

N = 20_000


@pytest.fixture(scope="module")
def release_align(tmp_path_factory, release_helpers):
    """A 20,000-record LLaSO-Align-like file: text_audio/ASR_stage1_train.json."""
    root = tmp_path_factory.mktemp("align")
    path = release_helpers.write_list(root / "text_audio" / "ASR_stage1_train.json", release_helpers.asr_records(N))
    return root, path


def test_random_access_equals_streamed_samples_and_cache_is_reused(release_align, tmp_path):
    root, path = release_align
    cache = tmp_path / "cache"
    seen: list[int] = []
    builds = index_mod.builds
    index = open_index(path, root, cache, progress=seen.append, batch_size=4096)
    assert index.built and index_mod.builds == builds + 1
    assert len(index) == N and seen[-1] == N and seen == sorted(seen) and len(seen) > 1
    streamed = list(iter_file(map_file(path, root)))
    assert len(streamed) == N
    for i in random.Random(0).sample(range(N), 300) + [0, N - 1, 4095, 4096]:
        assert index[i] == streamed[i]
    assert index[-1] == streamed[-1] and index[10:13] == streamed[10:13]
    assert list(index) == streamed
    sample = index[123]
    assert sample.id == "text_audio/ASR_stage1_train:123" and sample.task == "ASR" and sample.modality == "ta"
    assert sample.audio[0].path == "mls/audio/23/123.flac" and sample.metadata == {"index": 123, "speaker_id": "s26"}
    assert index.resolve(sample.audio[0]) == root / "mls" / "audio" / "23" / "123.flac"
    with pytest.raises(IndexError):
        index[N]

    (arrow,) = index.paths
    mtime = arrow.stat().st_mtime_ns
    again = open_index(path, root, cache, progress=seen.append)
    assert not again.built and index_mod.builds == builds + 1 and arrow.stat().st_mtime_ns == mtime
    assert again.paths == index.paths and len(again) == N and again[777] == streamed[777]
    assert seen[-1] == N
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []  # no temporary files left


def test_a_changed_file_is_reindexed(tmp_path, release_helpers):
    path = release_helpers.write_list(tmp_path / "ASR_train.json", release_helpers.asr_records(10))
    first = open_index(path, cache_dir=tmp_path / "c")
    release_helpers.write_list(path, release_helpers.asr_records(12))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = open_index(path, cache_dir=tmp_path / "c")
    assert second.built and len(first) == 10 and len(second) == 12 and second.paths != first.paths
    assert open_index(path, cache_dir=tmp_path / "c", rebuild=True).built


def test_workers_reopen_by_path(release_align, tmp_path):
    root, path = release_align
    index = open_index(path, root, tmp_path / "cache")
    clone = pickle.loads(pickle.dumps(index))
    assert len(pickle.dumps(index)) < 2000  # only paths travel, not rows
    assert len(clone) == N and clone[N // 2] == index[N // 2]


def test_columns_table_and_hf_view(release_align, tmp_path):
    root, path = release_align
    index = open_index(path, root, tmp_path / "cache")
    assert index.table.column_names == list(index_mod.COLUMNS)
    assert set(index.column("task")) == {"ASR"} and index.column("split")[:2] == ["train", "train"]
    row = index.row(5)
    assert json.loads(row["segments"])[1] == {"type": "audio", "role": "input", "path": "mls/audio/5/5.flac"}
    ds = index.to_hf()
    assert len(ds) == N and ds[5]["id"] == row["id"]


def test_folder_index_matches_load_release(release_layout, tmp_path):
    root, _ = release_layout
    index = open_index(root, cache_dir=tmp_path / "cache")
    result = load_release(root)
    assert list(index) == result.samples
    assert index.unknown == result.unknown and len(index.unknown) == 2
    again = open_index(root, cache_dir=tmp_path / "cache")
    assert not again.built and len(again) == len(result)


def test_default_cache_dir(release_cache, tmp_path, release_helpers):
    assert default_cache_dir() == release_cache
    path = release_helpers.write_list(tmp_path / "ASR_test.json", release_helpers.asr_records(3))
    index = open_index(path)
    assert index.paths[0].parent == release_cache and index[0].split == "eval"


def test_errors(tmp_path, release_helpers):
    unknown = release_helpers.write_list(tmp_path / "nothing_train.json", [])
    with pytest.raises(ReleaseError, match="'nothing'"):
        open_index(unknown, cache_dir=tmp_path / "c")
    records = list(release_helpers.asr_records(5))
    records[3] = {"voice": ["x.wav"], "conversations": []}
    path = release_helpers.write_list(tmp_path / "ASR_train.json", records)
    with pytest.raises(ReleaseRecordError, match=r"ASR_train.json: sample 3"):
        open_index(path, cache_dir=tmp_path / "c")
    assert not any(p.suffix == ".arrow" for p in (tmp_path / "c").iterdir())
    index = open_index(path, cache_dir=tmp_path / "c", on_error="skip")
    assert len(index) == 4 and index.skipped_count == 1 and index.skipped[0].index == 3
