"""Ingesting a LLaSO-layout release root: every registered stem maps to its task, modality, split."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llaso_core.data.release import (
    ReleaseError,
    ReleaseRecordError,
    first_invalid_utf8,
    iter_file,
    load_release,
    map_file,
    normalize_audio_path,
    resolve,
    scan_release,
    split_of,
)
from llaso_core.data.sample import Sample
from llaso_core.query import AudioRef, AudioSegment, TextSegment


def test_every_registered_stem_has_a_file(release_layout, release_host):
    _, expected = release_layout
    assert {e.stem for e in expected} == set(release_host.sources)


def test_every_file_maps_to_its_task_modality_and_split(release_layout):
    root, expected = release_layout
    result = load_release(root, check_audio=True)
    by_file = {}
    for sample in result:
        by_file.setdefault(sample.id.rsplit(":", 1)[0], []).append(sample)
    assert len(result.files) == len(expected)
    for e in expected:
        samples = by_file[e.rel.removesuffix(".json")]
        assert len(samples) == len(e.records) == result.counts[e.rel.removesuffix(".json")]
        for i, (sample, record) in enumerate(zip(samples, e.records)):
            assert sample.id == f"{e.rel.removesuffix('.json')}:{i}"
            assert (sample.task, sample.source, sample.modality, sample.split) == (e.task, e.stem, e.modality, e.split), e.rel
            assert sample.target == e.targets[i]
            (audio,) = sample.audio
            assert "\\" in e.voices[i] and audio.path == e.voices[i].replace("\\", "/")
            assert not Path(audio.path).is_absolute() and resolve(root, audio).is_file()
            assert sample.template_id is None
            assert sample.metadata == {k: v for k, v in record.items() if k not in ("voice", "conversations")}
    assert result.missing_audio == [] and result.skipped == []


def test_modality_comes_from_where_the_audio_tag_sits(release_layout):
    root, _ = release_layout
    samples = {s.id: s for s in load_release(root)}
    at = next(s for s in samples.values() if s.source == "dolly_instruction_0")
    assert at.modality == "at" and isinstance(at.query.segments[0], AudioSegment)
    assert at.query.text_of("input").startswith("Question 0")
    pa = next(s for s in samples.values() if s.source == "1M_GPT4_end")
    assert pa.modality == "pa" and pa.query.text_of("cue") == "Listen to the audio and respond accordingly."
    ta = next(s for s in samples.values() if s.source == "orca_input_1")
    assert ta.modality == "ta" and isinstance(ta.query.segments[-1], AudioSegment)


def test_modality_folder_decides_between_ta_and_pa(release_layout):
    root, _ = release_layout
    samples = [s for s in load_release(root) if s.id.startswith("pure_audio/")]
    unregistered_cue = [s for s in samples if s.source == "vctk_gender_classification"]
    assert unregistered_cue and all(s.modality == "pa" for s in unregistered_cue)
    assert unregistered_cue[0].query.text_of("cue") == "Some unregistered cue."
    bare = [s for s in samples if s.source == "meld_ER_classification"]
    assert bare and all(s.modality == "pa" and s.query.text_of("cue") == "" for s in bare)
    assert bare[0].to_llaso()["conversations"][0]["value"] == "<audio>"


def test_ids_are_unique_across_the_root(release_layout):
    root, _ = release_layout
    ids = [s.id for s in load_release(root)]
    assert len(ids) == len(set(ids))


def test_unknown_stems_are_reported_not_skipped(release_layout):
    root, _ = release_layout
    files, unknown = scan_release(root)
    assert sorted(p.relative_to(root).as_posix() for p in unknown) == [
        "merged/LLaSO-Instruct.json", "text_audio/not_a_task_train.json"]
    result = load_release(root)
    assert result.unknown == unknown and not result.ok
    assert "not_a_task_train.json" in result.summary()
    _, unknown = scan_release(root, exclude=["merged"])
    assert [p.name for p in unknown] == ["not_a_task_train.json"]
    assert map_file(root / "text_audio" / "not_a_task_train.json", root) is None


def test_split_names():
    assert split_of(Path("x/vctk_gender_classification_test.json")) == "eval"
    assert split_of(Path("ASR_stage1_train.json")) == "train"
    assert split_of(Path("ASR_train_stage2.json")) == "train"
    assert split_of(Path("ASR.json"), "eval") == "eval"
    with pytest.raises(ReleaseError, match="ASR.json"):
        split_of(Path("ASR.json"))


def test_paths():
    assert normalize_audio_path("Common-voice/data\\common_voice_en_1.mp3") == "Common-voice/data/common_voice_en_1.mp3"
    assert resolve("/data/llaso", AudioRef("vctk\\p283\\x.flac")) == Path("/data/llaso/vctk/p283/x.flac")
    assert resolve("/data/llaso", "/abs/x.wav") == Path("/abs/x.wav")


def test_tasks_filter_and_progress(release_layout):
    root, _ = release_layout
    seen = []
    result = load_release(root, tasks=["sgc"], progress=seen.append)
    assert {s.task for s in result} == {"SGC"} and seen[-1] == len(result)


def _write(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


GOOD = {"voice": ["a\\b.wav"], "conversations": [{"from": "human", "value": "Gender?<audio>"},
                                                 {"from": "gpt", "value": "male"}]}


@pytest.mark.parametrize("bad, reason", [
    ({"voice": ["a.wav"], "conversations": [{"from": "human", "value": "no tag here"},
                                            {"from": "gpt", "value": "x"}]}, "0 <audio> tag"),
    ({"voice": ["a.wav"]}, "no 'conversations' list"),
    ({"voice": ["a.wav"], "conversations": [{"from": "human", "value": "<audio>"}]}, "no gpt turn"),
    ({"voice": [3], "conversations": GOOD["conversations"]}, "'voice'"),
    (["not", "a", "record"], "not a JSON object"),
    ({"voice": ["a.wav"], "conversations": [{"from": "human", "value": "<audio>text after"},
                                            {"from": "gpt", "value": "x"}]}, "no modality has the layout"),
])
def test_malformed_record_names_file_and_index(tmp_path, bad, reason):
    path = _write(tmp_path / "vctk_gender_classification_test.json", [GOOD, GOOD, bad, GOOD])
    with pytest.raises(ReleaseRecordError) as info:
        load_release(tmp_path)
    assert info.value.index == 2 and info.value.path == path
    assert str(path) in str(info.value) and "sample 2" in str(info.value) and reason in str(info.value)
    result = load_release(tmp_path, on_error="skip")
    assert len(result) == 3 and [(s.path, s.index) for s in result.skipped] == [(path, 2)]
    assert [s.id for s in result] == [f"vctk_gender_classification_test:{i}" for i in (0, 1, 3)]


def test_malformed_json_names_file(tmp_path):
    path = tmp_path / "vctk_gender_classification_test.json"
    path.write_text(json.dumps([GOOD, GOOD])[:-30], encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"vctk_gender_classification_test.json: sample 1: line 1: unreadable "
                                           r"record \(Unterminated string"):
        load_release(tmp_path)
    result = load_release(tmp_path, on_error="skip")  # what was read before the break is kept
    assert len(result) == 1 and result.skipped[0].index == 1
    assert "the rest of the file cannot be read" in result.skipped[0].reason


@pytest.mark.parametrize("content, reason", [
    (json.dumps({"data": [GOOD, GOOD]}).encode(), "top-level JSON object (keys: data)"),
    (json.dumps([{**GOOD, "conversations": [GOOD["conversations"][0], {"from": "gpt", "value": 1}]}]).encode(),
     "the gpt turn's 'value' is the number 1, not text"),
])
def test_bad_files_are_named_in_words(tmp_path, content, reason):
    (tmp_path / "vctk_gender_classification_test.json").write_bytes(content)
    (tmp_path / "vctk_gender_classification_train.json").write_text(json.dumps([GOOD]), encoding="utf-8")
    with pytest.raises(ReleaseError, match=re.escape(reason)) as info:
        load_release(tmp_path)
    assert "b'" not in str(info.value)
    result = load_release(tmp_path, on_error="skip")  # the good file is read all the same
    assert result.counts["vctk_gender_classification_train"] == 1
    assert reason in result.skipped[0].reason


def _raw(value: str) -> str:
    """``value`` as a JSON string with its control characters left raw, as some released files have them."""
    return '"' + value + '"'


def _record(human: str, answer: str) -> str:
    return ('{"voice": ["a.wav"], "conversations": [{"from": "human", "value": ' + _raw(human)
            + '}, {"from": "gpt", "value": ' + _raw(answer) + "}]}")


SPANNING = _record("Gen\tder?<audio>", "fe\nmale")  # a tab and a newline inside strings


@pytest.mark.parametrize("text", [
    "[\n" + ",\n".join([json.dumps(GOOD), SPANNING, json.dumps(GOOD)]) + "\n]\n",  # a JSON list
    "\n".join([json.dumps(GOOD), SPANNING, json.dumps(GOOD)]) + "\n",  # JSON Lines, a record over two lines
])
def test_control_characters_in_strings_are_read_and_noted(tmp_path, text):
    path = tmp_path / "vctk_gender_classification_test.json"
    path.write_text(text, encoding="utf-8")
    result = load_release(tmp_path)  # no record is malformed, so even on_error="raise" reads it
    assert [(s.id, s.target) for s in result] == [
        ("vctk_gender_classification_test:0", "male"), ("vctk_gender_classification_test:1", "fe\nmale"),
        ("vctk_gender_classification_test:2", "male")]
    assert result.samples[1].query.segments[0] == TextSegment("Gen\tder?", "instruction")
    (note,) = result.repaired
    assert note.startswith(f"{path}: read after repair (") and re.search(r"1 records (with control|spanning)", note)
    assert note in result.summary()


@pytest.mark.parametrize("prefix, crlf, note", [
    (b"\xef\xbb\xbf", False, "(UTF-8 BOM removed)"),
    (b"", True, "(CRLF line ends)"),
    (b"\xef\xbb\xbf", True, "(UTF-8 BOM removed, CRLF line ends)"),
    (b"", False, None),
])
def test_bom_and_crlf_are_read_by_the_stream_and_noted(tmp_path, prefix, crlf, note):
    text = json.dumps([GOOD, GOOD], indent=2).encode()
    (tmp_path / "vctk_gender_classification_test.json").write_bytes(prefix + (text.replace(b"\n", b"\r\n")
                                                                              if crlf else text))
    result = load_release(tmp_path)
    assert [s.target for s in result] == ["male", "male"]
    assert [r.split(": ", 1)[1] for r in result.repaired] == ([f"read after repair {note}"] if note else [])


def test_a_clean_file_is_streamed_not_read_whole(tmp_path, monkeypatch):
    from llaso_core.data import release

    def whole(path):
        raise AssertionError(f"{path} read whole")

    monkeypatch.setattr(release, "read_records", whole)
    _write(tmp_path / "vctk_gender_classification_test.json", [GOOD] * 50)
    assert len(load_release(tmp_path)) == 50
    (tmp_path / "vctk_gender_classification_test.json").write_text(SPANNING)  # the tolerant reader is the fallback
    with pytest.raises(AssertionError, match="read whole"):
        load_release(tmp_path)


def test_a_broken_file_too_big_to_read_again_keeps_what_the_stream_read(tmp_path, monkeypatch):
    from llaso_core.data import release

    monkeypatch.setattr(release, "TOLERANT_MAX_BYTES", 100)
    path = tmp_path / "vctk_gender_classification_test.json"
    path.write_text("[" + json.dumps(GOOD) + ", " + SPANNING + "]", encoding="utf-8")
    result = load_release(tmp_path, on_error="skip")
    assert [s.id for s in result] == ["vctk_gender_classification_test:0"]
    (skipped,) = result.skipped
    assert skipped.index == 1 and "malformed JSON" in skipped.reason and "too big to read again" in skipped.reason


def test_a_record_even_the_tolerant_reader_cannot_read_is_named_and_left_out(tmp_path):
    path = tmp_path / "vctk_gender_classification_test.json"
    broken = '{"voice": ["a.wav"], "conversations": [{"from": "human", "value": "x"'  # cut short
    path.write_text("[\n" + ",\n".join([json.dumps(GOOD), broken, SPANNING, json.dumps(GOOD)]) + "\n]",
                    encoding="utf-8")
    with pytest.raises(ReleaseRecordError, match=r"sample 1: line 3: unreadable record \(Expecting"):
        load_release(tmp_path)
    result = load_release(tmp_path, on_error="skip")
    assert [(s.index, s.unit) for s in result.skipped] == [(1, "sample")] and "line 3" in result.skipped[0].reason
    # the record positions stay those of the file: the broken one is sample 1, the ones after it 2 and 3
    assert [s.id.rsplit(":", 1)[1] for s in result] == ["0", "2", "3"]
    assert [s.target for s in result] == ["male", "fe\nmale", "male"]


def test_invalid_utf8_is_replaced_and_its_offset_named(tmp_path):
    path = tmp_path / "vctk_gender_classification_test.json"
    good = json.dumps([GOOD]).encode()
    path.write_bytes(good.replace(b"Gender?", b"Gen\xffder?"))
    result = load_release(tmp_path)
    assert [s.query.segments[0].text for s in result] == ["Gen\ufffdder?"]
    offset = good.index(b"Gender?") + 3
    assert result.repaired == [f"{path}: read after repair (invalid UTF-8 bytes replaced, the first at byte offset "
                               f"{offset})"]


def test_first_invalid_utf8_across_chunks(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes("é".encode() * 5 + b"\xc3(")  # the 2-byte é straddles every 3-byte chunk
    assert first_invalid_utf8(path, chunk_size=3) == (10, 0xC3)
    path.write_bytes("é".encode() * 5)
    assert first_invalid_utf8(path, chunk_size=3) is None


def test_single_object_and_json_lines_files(tmp_path):
    _write(tmp_path / "a" / "vctk_gender_classification_test.json", GOOD)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "vctk_gender_classification_test.json").write_text(
        "\n".join(json.dumps(GOOD) for _ in range(3)), encoding="utf-8")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "vctk_gender_classification_test.json").write_text("  \n", encoding="utf-8")
    result = load_release(tmp_path)
    assert result.counts == {"a/vctk_gender_classification_test": 1, "b/vctk_gender_classification_test": 3,
                             "c/vctk_gender_classification_test": 0}


def test_numeric_target_and_extra_turns(tmp_path):
    record = {"voice": "x.wav", "conversations": [{"from": "human", "value": "Velocity?<audio>"},
                                                  {"from": "gpt", "value": 127},
                                                  {"from": "human", "value": "sure?"}]}
    path = _write(tmp_path / "velocity_classification_test.json", [record])
    file = map_file(path, tmp_path)
    with pytest.raises(ReleaseRecordError, match="the number 127, not text"):  # VC is closed-set: flagged
        list(iter_file(file))
    record["conversations"][1]["value"] = "127"
    _write(path, [record])
    (sample,) = list(iter_file(file))
    assert isinstance(sample, Sample) and sample.target == "127"
    assert sample.metadata["extra_turns"] == [{"from": "human", "value": "sure?"}]
    assert sample.query.segments == (TextSegment("Velocity?", "instruction"), AudioSegment(AudioRef("x.wav"), "input"))


def test_a_number_is_a_numeric_tasks_answer(tmp_path):
    record = {"voice": "x.wav", "conversations": [{"from": "human", "value": "How old?<audio>"},
                                                  {"from": "gpt", "value": 42}]}
    path = _write(tmp_path / "vocalsound_age_prediction_test.json", [record])
    assert [s.target for s in iter_file(map_file(path, tmp_path))] == ["42"]


def test_not_a_folder(tmp_path):
    with pytest.raises(ReleaseError, match="not a folder"):
        load_release(tmp_path / "missing")
