"""Corpus-build input adapters: each layout's names and labels map to the task label sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from llaso_core.data.build import AdapterContext, BuildError, RawItem, Skipped, get_adapter
from llaso_core.loader import get_host
from tests.data import corpus_fixtures as fx


def run(name: str, path: Path, tasks=None, sources=None, options=None) -> tuple[list[RawItem], list[Skipped]]:
    host = get_host()
    adapter = get_adapter(host, name)
    wanted = tasks or adapter.tasks or [t.id for t in host.tasks]
    ctx = AdapterContext(adapter=adapter, path=Path(path), tasks=frozenset(wanted), sources=sources or {},
                         options=options or {}, host=host, name=name)
    out = list(adapter.load()(ctx))
    return [i for i in out if isinstance(i, RawItem)], [i for i in out if isinstance(i, Skipped)]


def targets(item: RawItem) -> dict[str, tuple[str, str]]:
    return {t.task: (t.value, t.source) for t in item.targets}


def test_registry_lists_every_layout_and_default_stems_exist():
    host = get_host()
    assert set(host.adapters.ids()) == {"llaso-release", "librispeech", "nsynth", "vocalsound", "crema-d", "text-qa"}
    assert {e.origin for e in host.adapters.entries()} == {"corpora"}  # registered through the plugin hook
    for adapter in host.adapters:
        for task, stem in adapter.sources.items():
            assert host.tasks.get(task).source(stem).stem == stem
    with pytest.raises(BuildError, match="Did you mean nsynth"):
        get_adapter(host, "nsyth")


def test_librispeech_transcripts_phonemes_and_speaker_groups(tmp_path):
    root = fx.write_librispeech(tmp_path / "ls", speakers=("19", "26"), per_speaker=2)
    items, skipped = run("librispeech", root)
    assert not skipped
    assert [i.id for i in items] == ["19-100-0000", "19-100-0001", "26-101-0000", "26-101-0001"]
    first = items[0]
    assert first.group == "19" and first.audio == root / "19" / "100" / "19-100-0000.flac"
    assert targets(first)["ASR"] == ("IN A VERY LITTLE WHILE", "ASR")  # normalised later, by the builder
    ipa, stem = targets(first)["PR"]
    assert stem == "phoneme_recognition" and ipa == "ɪn ɐ vɛɹi lɪɾəl waɪl"  # the release's PR format
    only_asr, _ = run("librispeech", root, tasks=["ASR"])
    assert all(set(targets(i)) == {"ASR"} for i in only_asr)


def test_nsynth_labels_map_to_the_task_label_sets(tmp_path):
    root = fx.write_nsynth(tmp_path / "ns")
    items, skipped = run("nsynth", root)
    assert not skipped
    by_id = {i.id: i for i in items}
    lead = by_id["synth_lead_synthetic_000-060-127"]
    assert lead.group == "synth_lead_synthetic_000"
    assert targets(lead) == {"IC": ("synth lead", "NSynth_instrument_classification"),
                             "ISC": ("synthetic", "NSynth_music_source_classification"),
                             "PP": ("60", "NSynth_pitch_recognition"), "VC": ("127", "velocity_classification")}
    assert lead.audio == root / "audio" / "synth_lead_synthetic_000-060-127.wav"
    odd = by_id["bass_electronic_001-041-090"]  # velocity 90 is no VC label: no VC target, the rest kept
    assert set(targets(odd)) == {"IC", "ISC", "PP"}
    labels = set(get_host().tasks.get("IC").label_set().labels)
    assert {targets(i)["IC"][0] for i in items} <= labels


def test_vocalsound_sound_gender_and_age_from_meta(tmp_path):
    root = fx.write_vocalsound(tmp_path / "vs", files=["f0001_0_cough.wav", "m0002_1_throatclearing.wav",
                                                       "x_bad_name.wav"], ages={"f0001": 23})
    items, skipped = run("vocalsound", root, options={"meta": "meta.csv"})
    assert [s.reason for s in skipped] == ["unparsed_name"]
    by_id = {i.id: i for i in items}
    assert targets(by_id["f0001_0_cough"]) == {"VSC": ("cough", "vocalsound_vocal_classification"),
                                               "SGC": ("female", "vocalsound_gender_classification"),
                                               "AR": ("23", "vocalsound_age_prediction")}
    male = by_id["m0002_1_throatclearing"]
    assert targets(male) == {"VSC": ("throat clearing", "vocalsound_vocal_classification"),
                             "SGC": ("male", "vocalsound_gender_classification")}  # no age known: no AR
    assert male.group == "m0002"
    without_meta, _ = run("vocalsound", root)
    assert all("AR" not in targets(i) for i in without_meta)


def test_vocalsound_meta_without_an_age_column_is_an_error(tmp_path):
    root = fx.write_vocalsound(tmp_path / "vs", files=["f0001_0_cough.wav"])
    (root / "meta.csv").write_text("who,what\nf0001,x\n", encoding="utf-8")
    with pytest.raises(BuildError, match="age"):
        run("vocalsound", root, options={"meta": "meta.csv"})


def test_cremad_emotion_and_intensity(tmp_path):
    root = fx.write_cremad(tmp_path / "cd", files=["1001_DFA_ANG_XX.wav", "1002_IEO_HAP_HI.wav",
                                                   "1003_DFA_FEA_LO.wav", "1004_TIE_NEU_MD.wav", "notes.wav"])
    items, skipped = run("crema-d", root)
    assert [s.reason for s in skipped] == ["unparsed_name"]
    got = {i.id: (targets(i)["ER"][0], targets(i)["EIE"][0], i.group) for i in items}
    assert got == {"1001_DFA_ANG_XX": ("anger", "unspecified", "1001"), "1002_IEO_HAP_HI": ("happiness", "high", "1002"),
                   "1003_DFA_FEA_LO": ("fear", "low", "1003"), "1004_TIE_NEU_MD": ("neutrality", "medium", "1004")}
    assert targets(items[0])["ER"][1] == "CREMAD_ER_classification"


def test_text_qa_keys_and_stems_per_modality(tmp_path):
    path = fx.write_text_qa(tmp_path / "dolly.jsonl", jsonl=True, records=[
        {"instruction": "Summarise.", "context": "A long text.", "response": "Short."},  # Dolly keys
        {"question": "Why is the sky blue?", "answer": "Scattering."},
        {"id": "orca-1", "system_prompt": "Be brief.", "question": "2+2?", "response": "4"},  # OpenOrca keys
        {"instruction": "No answer here."},
    ])
    items, skipped = run("text-qa", path)
    assert [s.reason for s in skipped] == ["no_instruction_or_answer"]
    assert [i.id for i in items] == ["0", "1", "orca-1"]
    assert items[0].prompt.instruction == "Summarise." and items[0].prompt.input == "A long text."
    assert items[1].prompt.input is None and items[2].prompt.instruction == "2+2?"
    target = items[0].targets[0]
    assert target.task == "AQA" and target.value == "Short."
    assert target.source_for("ta") == "dolly_input_1" and target.source_for("at") == "dolly_instruction_0"
    assert target.source_for("pa") in get_host().tasks.get("AQA").stems
    items, _ = run("text-qa", path, sources={"pa": "alpaca_gpt4_end"}, options={"name": "orca"})
    assert items[0].targets[0].by_modality == {"ta": "orca_input_1", "at": "orca_instruction_0",
                                               "pa": "alpaca_gpt4_end"}


def test_llaso_release_items_pass_samples_through(release_layout):
    root, _ = release_layout
    items, skipped = run("llaso-release", root, tasks=["SGC", "ER"])
    assert items and {i.sample.task for i in items} == {"SGC", "ER"}
    assert {s.reason for s in skipped} <= {"unknown_file"}
    for item in items:
        assert item.split == item.sample.split  # kept unless resplit
        assert all(Path(a.path).is_absolute() and Path(a.path).is_file() for a in item.sample.audio)
        assert item.targets[0].value == item.sample.target
    resplit, _ = run("llaso-release", root, tasks=["SGC"], options={"resplit": True})
    assert all(i.split is None for i in resplit)


def test_adapter_and_recipe_specs_are_validated():
    from llaso_core.specs import AdapterSpec, RecipeSpec, SpecError

    with pytest.raises(SpecError, match="AdapterSpec.sources: stems for tasks it does not produce"):
        AdapterSpec("a", "m:f", tasks=("ER",), sources={"SGC": "vctk_gender_classification"})
    with pytest.raises(SpecError, match="AdapterSpec.sources: .* is not a valid file stem"):
        AdapterSpec("a", "m:f", tasks=("ER",), sources={"ER": "no spaces"})
    with pytest.raises(SpecError, match="AdapterSpec.tasks: must not be empty"):
        AdapterSpec("a", "m:f", tasks=())
    with pytest.raises(SpecError, match="AdapterSpec.factory"):
        AdapterSpec("a", "not a reference")
    with pytest.raises(SpecError, match="RecipeSpec.id"):
        RecipeSpec("S R E", "m:f")
    with pytest.raises(SpecError, match="RecipeSpec.modality_weights: weight of 'pa'"):
        RecipeSpec("SRE", "m:f", modality_weights={"ta": 1, "pa": 0})
    assert AdapterSpec("a", "m:f", options=["x"]).options == ("x",) and AdapterSpec("a", "m:f").tasks is None
    assert RecipeSpec("SRE", "m:f", modality_weights={"ta": 2}).weight("pa") == 0.3
