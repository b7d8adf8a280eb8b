"""The synthetic corpus (llaso_core.data.synth): coverage, labels, audio, splits, cache, determinism.

One small corpus (12 samples per task) is generated once per module with two worker processes;
a second one with the same seed (in-process) checks determinism.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import defaultdict
from pathlib import Path

import attrs
import numpy as np
import pytest
import soundfile as sf

from llaso_core.data.sample import Sample
from llaso_core.data.synth import corpus as synth_corpus
from llaso_core.data.synth import music, synthesize_corpus, voices
from llaso_core.data.synth.dsp import median_f0, midi_of, to_rate
from llaso_core.loader import get_host
from llaso_core.metrics.extract import parse_pssl
from llaso_core.specs import RecipeSpec, Source
from llaso_plugins.recipes import pronunciation
from llaso_plugins.recipes.speaker import age_voice

PER_TASK = 12
SEED = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    calls: list[tuple[str, int, int]] = []
    manifest = synthesize_corpus(out, per_task=PER_TASK, seed=SEED, workers=2,
                                 progress=lambda *a: calls.append(a))
    return out, manifest, calls


@pytest.fixture(scope="module")
def samples(built):
    out, _, _ = built
    loaded = {}
    for split in ("train", "eval"):
        lines = (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
        loaded[split] = [Sample.from_dict(json.loads(line)) for line in lines]
    return loaded


@pytest.fixture(scope="module")
def host():
    return get_host()


def _all(samples):
    return samples["train"] + samples["eval"]


def _input_path(sample: Sample) -> str:
    """The audio file of a sample (each has exactly one)."""
    (ref,) = sample.audio
    return ref.path


def _read(out: Path, sample: Sample) -> np.ndarray:
    data, rate = sf.read(out / _input_path(sample), dtype="float32")
    assert rate == 16000
    return data


# -- coverage ----------------------------------------------------------------------------------------
def test_every_task_in_train_and_eval(samples, host):
    for split in ("train", "eval"):
        assert {s.task for s in samples[split]} == {t.id for t in host.tasks} == set(host.recipes.ids())
        assert all(s.split == split for s in samples[split])


def test_every_listed_modality_in_both_splits(samples, host):
    for task in host.tasks:
        for split in ("train", "eval"):
            got = {s.modality for s in samples[split] if s.task == task.id}
            assert got == set(task.modalities), (task.id, split)
    for s in _all(samples):
        source = host.tasks.get(s.task).source(s.source)
        assert s.modality in source.modalities  # AQA: each source has one modality


def test_counts_and_manifest(built, samples, host):
    _, manifest, calls = built
    everything = _all(samples)
    assert len(everything) == PER_TASK * len(host.recipes) == manifest["counts"]["total"]
    for task, counts in manifest["counts"]["task"].items():
        assert sum(counts.values()) == PER_TASK
        assert counts["eval"] == pytest.approx(PER_TASK * 0.2, abs=2)
    assert manifest["counts"]["split"] == {"eval": len(samples["eval"]), "train": len(samples["train"])}
    assert sum(manifest["counts"]["modality"].values()) == len(everything)
    assert manifest["audio_files"] == len(everything) and manifest["audio_seconds"] > 0
    assert manifest["seed"] == SEED and manifest["per_task"] == PER_TASK and manifest["elapsed_seconds"] > 0
    finished = {(task, done) for task, done, total in calls if done == total}
    assert {t for t, _ in finished} == set(host.recipes.ids()) and all(d == PER_TASK for _, d in finished)


def test_ids_unique(samples):
    ids = [s.id for s in _all(samples)]
    assert len(ids) == len(set(ids))
    paths = [_input_path(s) for s in _all(samples)]
    assert len(paths) == len(set(paths))


# -- targets -----------------------------------------------------------------------------------------
PSWL_WORD = re.compile(r'For "([a-z]+)", accuracy is (\d+), stress is (\d+), and total score is (\d+)\.')
EE_TARGET = re.compile(r"^[a-z ]+?( \[[a-z_]+ : [a-z ]+\])+$")


def test_targets_valid_for_their_label_sets(samples, host):
    for s in _all(samples):
        task = host.tasks.get(s.task)
        label_set = task.label_set(task.source(s.source).label_set)
        if label_set.kind == "closed":
            assert s.target in label_set.labels, (s.id, s.target, label_set.name)
        elif label_set.kind == "numeric":
            low, high = label_set.value_range
            assert s.target.isdigit() and low <= int(s.target) <= high, (s.id, s.target)
        else:
            assert s.target.strip(), s.id
    for s in _all(samples):
        if s.task == "PSSL":
            scores = parse_pssl(s.target)
            assert scores is not None and all(0 <= v <= 10 for v in scores.values())
            assert s.target.startswith(s.metadata["text"].capitalize() + ". For the sentence: accuracy is ")
        if s.task == "PSWL":
            words = PSWL_WORD.findall(s.target)
            assert [w[0] for w in words] == s.metadata["text"].split()
        if s.task == "EE":
            assert EE_TARGET.match(s.target), s.target
        if s.task == "PR":
            assert s.target != s.metadata["text"] and " " in s.target  # IPA words
        if s.task in ("ASR", "SCR"):
            assert s.target == s.metadata["text"]
        if s.task == "AR" and s.source == "vocalsound_age_prediction":
            assert s.target == str(s.metadata["age"])


def test_queries_follow_the_modality_layouts(samples, host):
    pa = host.modalities.get("pa")
    for s in _all(samples):
        segments = s.query.segments
        if s.modality == "pa":
            assert segments[0].text in (pa.eval_cues if s.split == "eval" else
                                        tuple(c for c in pa.cues if c not in pa.eval_cues))
            assert segments[1].audio.transcript  # the spoken instruction (or AQA question)
        elif s.modality == "at":
            assert segments[0].audio.transcript and segments[1].text == s.metadata["text"]
        else:
            assert s.query.text_of("instruction")
        if s.template_id is not None:
            held_out = host.tasks.get(s.task).templates.eval_ids
            assert (s.template_id in held_out) == (s.split == "eval"), s.id
        else:
            assert s.task == "AQA" and s.modality == "pa"


# -- audio -------------------------------------------------------------------------------------------
def test_audio_files_are_16k_mono_pcm16_and_not_silent(built, samples):
    out, _, _ = built
    for s in _all(samples):
        path = out / _input_path(s)
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16"), path
        data = _read(out, s)
        assert np.isfinite(data).all() and np.abs(data).max() > 0.02, path
        assert len(data) > 0.3 * 16000


def test_eval_items_disjoint_from_train(samples):
    by_task: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for s in _all(samples):
        by_task[s.task][s.split].add(s.metadata["item"])
    for task, items in by_task.items():
        assert items["eval"] and not items["eval"] & items["train"], task


def test_note_pitch_recovered_from_the_waveform(built, samples):
    out, _, _ = built
    notes = [s for s in _all(samples) if s.task in ("IC", "ISC", "PP", "VC") and s.modality == "ta"]
    hits = 0
    for s in notes:
        data = _read(out, s)
        f0 = median_f0(data[1600:12000])
        hits += math.isfinite(f0) and midi_of(f0) == s.metadata["midi"]
        if s.task == "PP":
            assert s.target == str(s.metadata["midi"])
    assert hits >= 0.9 * len(notes), f"{hits}/{len(notes)}"


def test_velocity_sets_the_peak_level(built, samples):
    out, _, _ = built
    for s in samples["train"]:
        if s.task == "VC" and s.modality == "ta":
            peak = np.abs(_read(out, s)).max()
            assert peak == pytest.approx(0.9 * int(s.target) / 127, abs=0.01)


def test_ssd_comes_in_contrast_pairs(built, samples):
    """Each SSD sentence and voice is spoken once real and once fake, so only the re-synthesis
    separates the labels; the fake differs from its real twin in the waveform, not in the words."""
    out, _, _ = built
    pairs_seen = 0
    for split in ("train", "eval"):
        for modality in ("ta", "pa"):
            stream = [s for s in samples[split] if s.task == "SSD" and s.modality == modality]
            for real, fake in zip(stream[::2], stream[1::2]):
                pairs_seen += 1
                assert (real.target, fake.target) == ("real", "fake")
                facts = ("text", "voice", "rate", "pitch")
                assert [real.metadata[k] for k in facts] == [fake.metadata[k] for k in facts]
                if modality == "ta":  # the clip is the input alone (pa starts with a spoken cue)
                    a, b = _read(out, real), _read(out, fake)
                    assert len(a) == len(b) and not np.allclose(a, b, atol=1e-3)
            pairs = {(s.metadata["text"], str(s.metadata["voice"])) for s in stream}
            assert len(pairs) == math.ceil(len(stream) / 2)  # different content from pair to pair
    assert pairs_seen >= 3


def test_sgc_female_voices_measure_higher_than_male(built, samples):
    out, _, _ = built
    f0 = defaultdict(list)
    for s in _all(samples):
        if s.task == "SGC":
            data = _read(out, s)
            if s.modality == "pa":  # the input clip follows the instruction
                data = data[-int(2.0 * 16000):]
            f0[s.target].append(median_f0(data, fmin=50, fmax=600))
    assert f0["male"] and f0["female"]
    assert min(f0["female"]) > max(f0["male"]), dict(f0)


def test_roster_genders_hold_at_the_pitch_extremes():
    low, high = voices.GENDER_PITCH
    male = [voices.measure_f0(voices.voice_id("en-us", v), pitch=high) for v in voices.MALE_VARIANTS]
    female = [voices.measure_f0(voices.voice_id("en-us", v), pitch=low) for v in voices.FEMALE_VARIANTS]
    assert max(male) < 130 < 150 < min(female), (male, female)


# -- cache and determinism ------------------------------------------------------------------------------
def test_second_call_returns_the_cached_manifest(built):
    out, manifest, _ = built
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    calls = []
    again = synthesize_corpus(out, per_task=PER_TASK, seed=SEED, workers=2, progress=lambda *a: calls.append(a))
    assert again == manifest and not calls
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_same_seed_gives_identical_jsonl(built, tmp_path):
    out, _, _ = built
    synthesize_corpus(tmp_path, per_task=PER_TASK, seed=SEED, workers=1)
    for name in ("train.jsonl", "eval.jsonl"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_other_seed_differs_and_refuses_foreign_folder(tmp_path):
    first, _ = synth_corpus.plan(4, 0)
    second, _ = synth_corpus.plan(4, 1)
    assert [p.sample.to_dict() for p in first] != [p.sample.to_dict() for p in second]
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        synthesize_corpus(tmp_path, per_task=2, workers=1)


# -- recipes come from plugins ------------------------------------------------------------------------
def _host_with(name: str, **hooks):
    import types
    from importlib import metadata

    from llaso_core import hookimpl, loader

    module = types.ModuleType(name)
    for hook, fn in hooks.items():
        setattr(module, hook, hookimpl(fn))
    return loader.load(list(metadata.entry_points(group=loader.ENTRY_POINT_GROUP)), extra=[(name, module)],
                       disabled=[])


def _registering(*specs):
    def hook(register):
        for spec in specs:
            register(spec)
    return hook


def test_a_task_without_a_recipe_is_skipped_or_named():
    host = _host_with("no-recipes", llaso_register_tasks=_registering(
        attrs.evolve(get_host().tasks.get("SGC"), id="SGX", sources=[Source("sgx_classification")])))
    planned, skipped = synth_corpus.plan(4, 0, host, tasks=None)
    assert skipped == ["SGX"] and "SGX" not in {p.sample.task for p in planned}
    with pytest.raises(synth_corpus.RecipeError, match="task SGX has no mini-corpus recipe"):
        synth_corpus.plan(4, 0, host, tasks=["SGX"])


def test_the_command_names_tasks_left_out(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LLASO_DISABLE_PLUGINS": "recipes"}  # every built-in task loses its recipe
    done = subprocess.run([sys.executable, "-m", "llaso_cli", "data", "synth", "--out", str(tmp_path), "--per-task",
                           "4"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no recipe, left out: ASR, AQA" in " ".join(done.stderr.split())
    assert json.loads((tmp_path / "manifest.json").read_text())["counts"]["total"] == 0


def test_invalid_or_failing_recipes_are_named():
    def bad_weights(register):
        register(RecipeSpec("SGC", "llaso_plugins.recipes.speaker:SGC", modality_weights={"ta": -1}))

    bad = _host_with("bad-weights", llaso_register_recipes=bad_weights)
    assert bad.plugin("bad-weights").state == "failed" and "modality_weights" in bad.plugin("bad-weights").error
    host = get_host()
    broken = RecipeSpec("SGC", "llaso_plugins.recipes.speaker:AGE_GROUPS")  # not a generator
    modalities = {m.id: m for m in host.modalities}
    with pytest.raises(synth_corpus.RecipeError, match=r"recipe of task SGC .*AGE_GROUPS.* failed on synth-sgc"):
        synth_corpus.plan_task(host.tasks.get("SGC"), broken, modalities, 4, 0)
    missing = RecipeSpec("SGC", "llaso_plugins.recipes.speaker:NOPE")
    with pytest.raises(synth_corpus.RecipeError, match="cannot load llaso_plugins.recipes.speaker:NOPE"):
        synth_corpus.plan_task(host.tasks.get("SGC"), missing, modalities, 4, 0)


def undecided(ctx):
    """A recipe whose answers are not in the task's label set."""
    from llaso_core.data.synth.recipe import spoken_sentence

    return spoken_sentence("maybe", "en-us", 170, 50, "the old man found a red box", {})


def test_check_task_runs_the_recipe():
    from llaso_core.testing import check_task

    sgx = attrs.evolve(get_host().tasks.get("SGC"), id="SGX", sources=[Source("sgx_classification", ("ta", "pa"))])
    host = _host_with("undecided", llaso_register_tasks=_registering(sgx), llaso_register_recipes=_registering(
        RecipeSpec("SGX", f"{__name__}:undecided")))
    problems = check_task("SGX", host)
    assert problems and all("label_not_in_set 'maybe' not in" in p for p in problems)
    assert check_task("SGC", host) == []


# -- building blocks --------------------------------------------------------------------------------------
def test_allocation_and_split_counts():
    assert synth_corpus.allocate(200, {"ta": 0.7, "pa": 0.3}) == {"ta": 140, "pa": 60}
    assert sum(synth_corpus.allocate(200, {"pa": 1, "ta": 1, "at": 1}).values()) == 200
    assert synth_corpus.allocate(6, {"pa": 1, "ta": 5, "at": 0.01}) == {"pa": 2, "ta": 2, "at": 2}
    assert synth_corpus.split_counts(60) == {"train": 48, "eval": 12}
    assert synth_corpus.split_counts(2) == {"train": 1, "eval": 1}


@pytest.mark.parametrize("family", music.FAMILIES)
def test_each_family_renders_its_exact_pitch(family):
    low, high = music.MIDI_RANGE[family]
    for midi in (low, (low + high) // 2, high):
        x = music.render_note(music.Note(family, "acoustic", midi, 100, seed=midi))
        assert midi_of(median_f0(x[1600:12000])) == midi


def test_age_mapping_is_monotone():
    rates, pitches, shakes = zip(*(age_voice(a) for a in range(13, 100)))
    assert all(a >= b for a, b in zip(rates, rates[1:])) and rates[0] > rates[-1]
    assert all(a >= b for a, b in zip(pitches, pitches[1:])) and pitches[0] > pitches[-1]
    assert all(a <= b for a, b in zip(shakes, shakes[1:]))


def test_pronunciation_scores_follow_the_degradation():
    perfect = pronunciation.read("kate likes fresh apples", 0, random.Random(0))
    assert perfect.accuracy == perfect.prosodic == 10 and perfect.fluency >= 8
    assert all(w.total == 10 for w in perfect.words)
    rng = random.Random(1)
    poor = [pronunciation.read("peter wants warm bread", 3, rng) for _ in range(20)]
    assert sum(r.accuracy for r in poor) / 20 < 10 and sum(r.fluency for r in poor) / 20 < 8
    for r in poor:
        assert parse_pssl(pronunciation.sentence_target(r)) == {"accuracy": r.accuracy, "proso": r.prosodic,
                                                                "fluency": r.fluency}
    spelling, applied = pronunciation.mispronounce("weather", 2, random.Random(0))
    assert applied == 2 and spelling != "weather"


def test_fft_resampler_matches_torchaudio():
    from llaso_core.data.audio import resample

    t = np.arange(22050) / 22050
    x = (0.5 * np.sin(2 * np.pi * 440 * t) * np.hanning(len(t))).astype(np.float32)
    ours, reference = to_rate(x, 22050), resample(x, 22050, 16000)
    assert len(ours) == len(reference) and np.abs(ours - reference).max() < 1e-3
