"""build_corpus end to end on tiny generated corpora: splits, templates, modalities, audio, manifest."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import soundfile as sf

from llaso_core.data.build import BuildError, BuildSpec, build_corpus
from tests.data import corpus_fixtures as fx
from llaso_core.data.release import load_release
from llaso_core.data.store import read_samples
from llaso_core.loader import get_host

CORRUPT = "19-100-0001"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    fx.write_librispeech(root / "libri")
    fx.write_corrupt(root / "libri" / "19" / "100" / f"{CORRUPT}.flac")
    fx.write_nsynth(root / "nsynth")
    fx.write_vocalsound(root / "vocalsound", ages={"f0001": 23, "m0002": 41, "f0003": 90})
    fx.write_cremad(root / "cremad")
    fx.write_text_qa(root / "qa" / "dolly.json")
    return root


@pytest.fixture(scope="module")
def tts_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("tts-cache"))


def spec_of(corpora: Path, tts_cache: str, inputs: list[dict], **kw) -> BuildSpec:
    data = {"seed": 3, "eval_fraction": 0.5, "inputs": inputs, "tts": {"cache_dir": tts_cache}, **kw}
    return BuildSpec.from_dict(data, base_dir=corpora)


ALL_INPUTS = [
    {"adapter": "librispeech", "path": "libri"},
    {"adapter": "nsynth", "path": "nsynth"},
    {"adapter": "vocalsound", "path": "vocalsound", "options": {"meta": "meta.csv"}},
    {"adapter": "crema-d", "path": "cremad"},
    {"adapter": "text-qa", "path": "qa/dolly.json"},
]


@pytest.fixture(scope="module")
def built(corpora, tts_cache, tmp_path_factory) -> tuple[Path, dict, list]:
    out = tmp_path_factory.mktemp("corpus")
    events = []
    manifest = build_corpus(spec_of(corpora, tts_cache, ALL_INPUTS), out, progress=lambda *e: events.append(e))
    samples = list(read_samples(out / "train.jsonl")) + list(read_samples(out / "eval.jsonl"))
    assert events and events[-1] == ("write", 3, 3)
    return out, manifest, samples


def seconds(path: Path) -> float:
    info = sf.info(str(path))
    return info.frames / info.samplerate


def test_outputs_and_manifest_counts(built):
    out, manifest, samples = built
    assert json.loads((out / "manifest.json").read_text()) == manifest
    counts = manifest["counts"]
    assert counts["samples"] == len(samples) == manifest["files"]["train.jsonl"] + manifest["files"]["eval.jsonl"]
    assert counts["by_split"]["train"] and counts["by_split"]["eval"]
    assert {t for t in counts["by_task"]} == {"ASR", "PR", "IC", "ISC", "PP", "VC", "VSC", "SGC", "AR", "ER", "EIE",
                                              "AQA"}
    assert sum(sum(v.values()) for v in counts["by_task_modality"].values()) == len(samples)
    assert manifest["labels"]["IC"] and "synth lead" in Counter(
        label for per in manifest["labels"]["IC"].values() for label in per)
    assert manifest["skipped"]["value_out_of_range"] == 1  # f0003 is 90: outside AR's 18-80
    assert manifest["skipped"]["non_english"] == 1
    # the release layout reads back with every audio file found
    release = load_release(out / "llaso", check_audio=True)
    assert release.ok, release.summary()
    assert Counter((s.task, s.modality, s.split) for s in release) == Counter(
        (s.task, s.modality, s.split) for s in samples)


def test_audio_is_standardised_and_corrupt_files_are_reported(built):
    out, manifest, samples = built
    for sample in samples:
        for ref in sample.audio:
            info = sf.info(str(out / ref.path))
            assert (info.samplerate, info.channels) == (16000, 1), ref.path
    stereo = next(s for s in samples if s.metadata.get("item") == "19-100-0000" and s.modality == "ta")
    assert abs(seconds(out / stereo.audio[0].path) - 0.3) < 0.01  # 44.1 kHz stereo in, 16 kHz mono out
    problems = manifest["audio_problems"]
    assert [(p["kind"], Path(p["path"]).name) for p in problems] == [("corrupt", f"{CORRUPT}.flac")]
    assert manifest["audio"]["problem_total"] == 1 and manifest["skipped"]["audio_problem"] == 1
    assert not [s for s in samples if s.metadata.get("item") == CORRUPT]


def test_splits_are_disjoint_by_source_group(built):
    _, manifest, samples = built
    groups = defaultdict(set)
    for s in samples:
        groups[s.split].add((s.metadata["dataset"], s.metadata["group"]))
    assert groups["train"] and groups["eval"]
    assert not groups["train"] & groups["eval"]
    assert manifest["groups"] == {"train": len(groups["train"]), "eval": len(groups["eval"]), "overlap": 0}
    by_speaker = defaultdict(set)  # e.g. both clips of a LibriSpeech speaker land together
    for s in samples:
        if s.metadata["dataset"] == "librispeech":
            by_speaker[s.metadata["speaker_id"]].add(s.split)
    assert all(len(splits) == 1 for splits in by_speaker.values())


def test_held_out_templates_and_cues_only_in_eval(built):
    _, _, samples = built
    host = get_host()
    pa = host.modalities.get("pa")
    templated = [s for s in samples if s.template_id is not None]
    assert {s.split for s in templated} == {"train", "eval"}
    for s in templated:
        held_out = host.tasks.get(s.task).templates.eval_ids
        assert (s.template_id in held_out) == (s.split == "eval"), (s.id, s.template_id)
    for s in samples:
        if s.modality == "pa":
            cue = s.query.text_of("cue")
            assert cue in pa.cues and (cue in pa.eval_cues) == (s.split == "eval")


def test_pure_audio_variant_prepends_the_spoken_instruction(built):
    out, _, samples = built
    by_id = {s.id: s for s in samples}
    checked = 0
    for s in samples:
        if s.modality != "pa" or s.task == "AQA":
            continue
        ta = by_id[s.id.removesuffix(":pa") + ":ta"]
        assert ta.template_id == s.template_id
        assert s.metadata["spoken_instruction"] == ta.query.text_of("instruction")
        assert s.metadata["instruction_voice"]
        assert seconds(out / s.audio[0].path) > seconds(out / ta.audio[0].path) + 0.3
        checked += 1
    assert checked >= 20
    asr = next(s for s in samples if s.task == "ASR")
    assert asr.target == asr.target.lower() and "'" not in asr.target  # basic_en normalised


def test_text_qa_speaks_instruction_and_input_in_different_voices(built):
    out, _, samples = built
    qa = [s for s in samples if s.task == "AQA"]
    assert {s.modality for s in qa} == {"ta", "at", "pa"}
    by_item = defaultdict(dict)
    for s in qa:
        by_item[s.metadata["item"]][s.modality] = s
    with_input = by_item["0"]  # "Translate the sentence into French." + "The cat sleeps."
    pa, at, ta = with_input["pa"], with_input["at"], with_input["ta"]
    assert pa.metadata["instruction_voice"] != pa.metadata["input_voice"]
    assert at.metadata["instruction_voice"] == pa.metadata["instruction_voice"]
    assert ta.metadata["input_voice"] == pa.metadata["input_voice"]
    assert at.query.text_of("input") == "The cat sleeps." and at.audio[0].transcript.startswith("Translate")
    assert ta.query.text_of("instruction").startswith("Translate") and ta.audio[0].transcript == "The cat sleeps."
    assert (at.source, ta.source) == ("dolly_instruction_0", "dolly_input_1")
    assert seconds(out / pa.audio[0].path) > seconds(out / at.audio[0].path) + 0.3
    no_input = by_item["1"]  # no input: only the pure-audio variant
    assert set(no_input) == {"pa"} and "input_voice" not in no_input["pa"].metadata
    assert by_item["4"]["pa"].target == "Paris."  # question/answer keys


def test_balancing_and_caps(corpora, tts_cache, tmp_path):
    files = [f"f{n:04d}_0_{label}.wav" for n, label in enumerate(["cough"] * 5 + ["sigh"] * 2 + ["sniff"] * 3)]
    fx.write_vocalsound(tmp_path / "vs", files=files)
    inputs = [{"adapter": "vocalsound", "path": str(tmp_path / "vs"), "tasks": ["VSC"]}]
    spec = spec_of(corpora, tts_cache, inputs, eval_fraction=0.0, modalities=["ta"], balance_labels=True)
    manifest = build_corpus(spec, tmp_path / "balanced")
    assert manifest["labels"]["VSC"] == {"vocalsound_vocal_classification/train": {"cough": 2, "sigh": 2, "sniff": 2}}
    assert manifest["tts"] is None  # ta only: nothing spoken
    capped = build_corpus(spec_of(corpora, tts_cache, inputs, eval_fraction=0.0, modalities=["ta"],
                                  balance_labels=True, max_per_task=3), tmp_path / "capped")
    assert capped["labels"]["VSC"] == {"vocalsound_vocal_classification/train": {"cough": 1, "sigh": 1, "sniff": 1}}
    per_label = build_corpus(spec_of(corpora, tts_cache, inputs, eval_fraction=0.0, modalities=["ta"],
                                     max_per_label=1), tmp_path / "per-label")
    assert per_label["counts"]["samples"] == 3 and per_label["skipped"]["not_selected"] == 7


def test_same_seed_same_corpus(corpora, tts_cache, tmp_path):
    inputs = [{"adapter": "crema-d", "path": "cremad"}, {"adapter": "text-qa", "path": "qa/dolly.json"}]
    first = build_corpus(spec_of(corpora, tts_cache, inputs), tmp_path / "a")
    second = build_corpus(spec_of(corpora, tts_cache, inputs), tmp_path / "b")
    for name in ("train.jsonl", "eval.jsonl"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert first["counts"] == second["counts"]
    other = build_corpus(spec_of(corpora, tts_cache, inputs, seed=4), tmp_path / "c")
    texts = [(tmp_path / d / "train.jsonl").read_text() + (tmp_path / d / "eval.jsonl").read_text() for d in "ac"]
    assert texts[0] != texts[1]
    assert other["counts"]["samples"] == first["counts"]["samples"]


def test_release_input_passes_through_or_resplits(release_layout, corpora, tts_cache, tmp_path):
    root, _ = release_layout
    original = {s.id: s for s in load_release(root) if s.task in ("SGC", "ER")}
    inputs = [{"adapter": "llaso-release", "path": str(root), "tasks": ["SGC", "ER"]}]
    build_corpus(spec_of(corpora, tts_cache, inputs), tmp_path / "kept")
    kept = list(read_samples(tmp_path / "kept" / "train.jsonl")) + list(read_samples(tmp_path / "kept" / "eval.jsonl"))
    assert {s.id for s in kept} == set(original)
    assert all(s.split == original[s.id].split and s.target == original[s.id].target for s in kept)
    inputs[0]["options"] = {"resplit": True, "standardize_audio": True}
    manifest = build_corpus(spec_of(corpora, tts_cache, inputs, eval_fraction=0.5), tmp_path / "resplit")
    assert manifest["groups"]["overlap"] == 0
    again = list(read_samples(tmp_path / "resplit" / "train.jsonl"))
    assert again and all((tmp_path / "resplit" / a.path).is_file() for s in again for a in s.audio)


def test_release_input_notes_repaired_files(release_layout, corpora, tts_cache, tmp_path):
    """A release file read only after repair (BOM, CRLF) is built from and named in the manifest."""
    root = tmp_path / "release"
    shutil.copytree(release_layout[0], root)
    path = next(p for p in sorted(root.rglob("*.json")) if "gender" in p.name)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    inputs = [{"adapter": "llaso-release", "path": str(root), "tasks": ["SGC"]}]
    manifest = build_corpus(spec_of(corpora, tts_cache, inputs), tmp_path / "out")
    (note,) = manifest["notes"]
    assert note["where"] == str(path) and note["detail"].startswith("read after repair (")
    assert manifest["counts"]["samples"] == len([s for s in load_release(release_layout[0]) if s.task == "SGC"])


def test_spec_files_and_errors(corpora, tmp_path):
    (tmp_path / "spec.toml").write_text(
        'seed = 5\nmodalities = ["ta"]\n[[inputs]]\nadapter = "crema-d"\npath = "cd"\ntask = "ER"\n', encoding="utf-8")
    spec = BuildSpec.from_file(tmp_path / "spec.toml")
    assert spec.seed == 5 and spec.inputs[0].tasks == ("ER",) and spec.inputs[0].path == str(tmp_path / "cd")
    assert BuildSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    with pytest.raises(BuildError, match="did you mean 'eval_fraction'"):
        BuildSpec.from_dict({"inputs": [{"adapter": "crema-d", "path": "x"}], "eval_fracton": 0.2})
    with pytest.raises(BuildError, match="cannot produce task"):
        build_corpus(BuildSpec.from_dict({"inputs": [{"adapter": "crema-d", "path": str(corpora / "cremad"),
                                                      "tasks": ["ASR"]}]}), tmp_path / "x")
    with pytest.raises(BuildError, match="unknown option"):
        build_corpus(BuildSpec.from_dict({"inputs": [{"adapter": "crema-d", "path": "x", "options": {"z": 1}}]}),
                     tmp_path / "y")
    with pytest.raises(BuildError, match="voice"):
        build_corpus(BuildSpec.from_dict({"inputs": [{"adapter": "crema-d", "path": str(corpora / "cremad")}],
                                          "tts": {"instruction_voices": ["en-zz+nope"]}}), tmp_path / "z")


# -- an adapter a plugin registers ---------------------------------------------------------------
def iter_gender_folders(ctx):
    """A toy layout: ``<root>/<male|female>/<speaker>_<n>.wav`` -> SGC; the group is the speaker."""
    from llaso_core.data.build import RawItem

    for path in sorted(ctx.path.glob("*/*.wav")):
        if path.parent.name == "broken":
            raise ValueError("deliberately unreadable layout")
        yield RawItem(id=path.stem, group=path.stem.split("_")[0], audio=path,
                      targets=ctx.targets({"SGC": path.parent.name}))


def test_a_plugin_adapter_builds_through_the_hook(corpora, tts_cache, tmp_path):
    import types
    from importlib import metadata

    from llaso_core import hookimpl, loader
    from llaso_core.specs import AdapterSpec

    module = types.ModuleType("gender_folders")
    module.llaso_register_adapters = hookimpl(lambda register: register(AdapterSpec(
        "gender-folders", f"{__name__}:iter_gender_folders", tasks=("SGC",),
        sources={"SGC": "vctk_gender_classification"})))
    host = loader.load(list(metadata.entry_points(group=loader.ENTRY_POINT_GROUP)),
                       extra=[("gender-folders", module)], disabled=[])
    assert host.adapters.entry("gender-folders").origin == "gender-folders"
    for label, speaker in (("male", "s1"), ("male", "s2"), ("female", "s3"), ("female", "s4")):
        for n in range(2):
            fx.write_audio(tmp_path / "raw" / label / f"{speaker}_{n}.wav")
    spec = spec_of(corpora, tts_cache, [{"adapter": "gender-folders", "path": str(tmp_path / "raw")}],
                   modalities=["ta"])
    manifest = build_corpus(spec, tmp_path / "out", host=host)
    samples = list(read_samples(tmp_path / "out" / "train.jsonl")) + list(read_samples(tmp_path / "out" / "eval.jsonl"))
    assert manifest["counts"]["samples"] == len(samples) == 8
    assert {(s.task, s.source, s.target) for s in samples} == {
        ("SGC", "vctk_gender_classification", "male"), ("SGC", "vctk_gender_classification", "female")}
    fx.write_audio(tmp_path / "raw" / "broken" / "s9_0.wav")
    with pytest.raises(BuildError, match="adapter gender-folders failed on input .*deliberately unreadable"):
        build_corpus(spec, tmp_path / "out2", host=host)
    with pytest.raises(BuildError, match="unknown adapter 'gender-folder'. Did you mean gender-folders"):
        build_corpus(spec_of(corpora, tts_cache, [{"adapter": "gender-folder", "path": "x"}]), tmp_path / "o3",
                     host=host)
