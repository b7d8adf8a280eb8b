"""The audio pipeline on real files generated here: decode, mono, resample, length policy, problems."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from llaso_core.data import audio as audio_mod
from llaso_core.data.audio import (
    PROBLEM_KINDS, AudioClip, AudioError, AudioPolicy, AudioProblem, AudioReport, load_audio, load_clip,
    resample, save_wav, validate_audio,
)


def sine(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    """Dominant frequency via FFT, refined by parabolic interpolation of the log magnitude."""
    spec = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    k = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-12)
    k += 0.5 * (a - c) / (a - 2 * b + c)
    return k * rate / len(samples)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audio")
    out: dict[str, Path] = {}

    left, right = sine(440, 1.0, 48000, 0.6), sine(440, 1.0, 48000, 0.2)
    out["stereo48k"] = d / "stereo48k.wav"
    sf.write(out["stereo48k"], np.stack([left, right], axis=1), 48000, subtype="PCM_16")

    out["flac44k"] = d / "tone44k.flac"
    sf.write(out["flac44k"], sine(1000, 3.0, 44100), 44100)

    out["long40s"] = d / "long40s.wav"
    sf.write(out["long40s"], sine(300, 40.0, 22050), 22050, subtype="FLOAT")

    out["zero_frames"] = d / "zero_frames.wav"
    sf.write(out["zero_frames"], np.zeros((0, 1), dtype=np.float32), 16000)

    out["zero_bytes"] = d / "zero_bytes.wav"
    out["zero_bytes"].write_bytes(b"")

    out["random"] = d / "random.wav"
    out["random"].write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())

    whole = out["stereo48k"].read_bytes()
    out["header_only"] = d / "header_only.wav"
    out["header_only"].write_bytes(whole[:44])
    out["cut_wav"] = d / "cut.wav"
    out["cut_wav"].write_bytes(whole[:len(whole) // 2])
    flac = out["flac44k"].read_bytes()
    out["cut_flac"] = d / "cut.flac"
    out["cut_flac"].write_bytes(flac[:len(flac) // 2])

    out["silent"] = d / "silent.wav"
    sf.write(out["silent"], np.zeros(16000, dtype=np.float32), 16000)
    out["too_short"] = d / "too_short.wav"
    sf.write(out["too_short"], sine(440, 0.01, 16000), 16000)

    bad = sine(440, 0.5, 16000)
    bad[100:110] = np.nan
    out["nan"] = d / "nan.wav"
    sf.write(out["nan"], bad, 16000, subtype="FLOAT")
    bad = sine(440, 0.5, 16000)
    bad[5] = np.inf
    out["inf"] = d / "inf.wav"
    sf.write(out["inf"], bad, 16000, subtype="FLOAT")

    out["missing"] = d / "does_not_exist.wav"
    return out


# -- decoding, mono, resampling ------------------------------------------------------------------
def test_stereo_48k_is_resampled_to_mono_16k_with_frequency_kept(files):
    clip = load_audio(files["stereo48k"])
    assert isinstance(clip, AudioClip)
    assert clip.samples.shape == (16000,) and clip.samples.dtype == np.float32
    assert clip.sample_rate == 16000 and clip.original_seconds == pytest.approx(1.0)
    assert not clip.truncated and clip.chunk is None and clip.path == str(files["stereo48k"])
    assert peak_hz(clip.samples, 16000) == pytest.approx(440, abs=1.0)
    # mono is the channel mean: amplitude (0.6 + 0.2) / 2
    assert np.abs(clip.samples[1000:-1000]).max() == pytest.approx(0.4, abs=0.01)


def test_mono_is_the_channel_mean_exactly(tmp_path):
    a, b = sine(200, 0.5, 16000, 0.7), sine(350, 0.5, 16000, 0.3)
    sf.write(tmp_path / "st.wav", np.stack([a, b], axis=1), 16000, subtype="FLOAT")
    clip = load_audio(tmp_path / "st.wav")
    np.testing.assert_allclose(clip.samples, (a + b) / 2, atol=1e-6)
    kept = load_audio(tmp_path / "st.wav", AudioPolicy(mono=False))
    assert kept.samples.shape == (2, 8000)
    np.testing.assert_allclose(kept.samples, np.stack([a, b]), atol=1e-6)


def test_flac_44k_3s(files):
    clip = load_audio(files["flac44k"])
    assert clip.samples.shape == (48000,)
    assert clip.original_seconds == pytest.approx(3.0)
    assert peak_hz(clip.samples, 16000) == pytest.approx(1000, abs=1.0)


def test_other_target_rate(files):
    clip = load_audio(files["flac44k"], AudioPolicy(sample_rate=8000))
    assert clip.samples.shape == (24000,) and clip.sample_rate == 8000
    assert peak_hz(clip.samples, 8000) == pytest.approx(1000, abs=1.0)


def test_cached_resampler_matches_functional_and_is_reused():
    x = np.random.default_rng(1).standard_normal(22050).astype(np.float32)
    audio_mod._resampler.cache_clear()
    first = resample(x, 22050, 16000)
    second = resample(x, 22050, 16000)
    info = audio_mod._resampler.cache_info()
    assert info.misses == 1 and info.hits == 1
    expected = torchaudio.functional.resample(torch.from_numpy(x), 22050, 16000).numpy()
    np.testing.assert_allclose(first, expected, atol=1e-4)  # kernel rounding differs slightly
    np.testing.assert_array_equal(first, second)
    assert resample(x, 16000, 16000) is not None and resample(x, 16000, 16000).shape == x.shape


# -- length policy ---------------------------------------------------------------------------------
def test_truncate(files):
    report = AudioReport()
    clip = load_audio(files["long40s"], AudioPolicy(on_long="truncate"), report=report)
    assert clip.samples.shape == (30 * 16000,) and clip.truncated
    assert clip.original_seconds == pytest.approx(40.0)
    # only the kept part is decoded, yet it matches resampling the whole file and cutting
    data, rate = sf.read(files["long40s"], dtype="float32")
    full = resample(data, rate, 16000)[:30 * 16000]
    np.testing.assert_allclose(clip.samples, full, atol=1e-4)
    s = report.summary()
    assert (s["files"], s["loaded"], s["clips"], s["truncated"], s["problem_total"]) == (1, 1, 1, 1, 0)
    assert s["audio_seconds"] == pytest.approx(40.0)


def test_skip_long(files):
    report = AudioReport()
    assert load_audio(files["long40s"], AudioPolicy(on_long="skip"), sample_id="L1", report=report) is None
    s = report.summary()
    assert s["skipped_long"] == 1 and s["problems_by_kind"]["too_long"] == 1 and s["loaded"] == 0
    assert s["problems"][0]["sample_id"] == "L1"
    with pytest.raises(AudioError) as err:
        load_audio(files["long40s"], AudioPolicy(on_long="skip", on_problem="raise"), sample_id="L1")
    assert err.value.problem.kind == "too_long"
    assert str(files["long40s"]) in str(err.value) and "L1" in str(err.value)


def test_chunk(files):
    report = AudioReport()
    clips = load_audio(files["long40s"], AudioPolicy(on_long="chunk"), report=report)
    assert [c.chunk for c in clips] == [0, 1]
    assert [c.num_samples for c in clips] == [30 * 16000, 10 * 16000]
    assert [c.start_seconds for c in clips] == [0.0, 30.0]
    assert not any(c.truncated for c in clips)
    data, rate = sf.read(files["long40s"], dtype="float32")
    np.testing.assert_allclose(np.concatenate([c.samples for c in clips]), resample(data, rate, 16000),
                               atol=1e-6)
    s = report.summary()
    assert (s["chunked"], s["clips"], s["truncated"], s["loaded"]) == (1, 2, 0, 1)

    # capped by max_chunks: the last kept chunk is marked truncated
    capped = load_audio(files["long40s"], AudioPolicy(on_long="chunk", max_seconds=15.0, max_chunks=2))
    assert [c.num_samples for c in capped] == [15 * 16000, 15 * 16000]
    assert [c.truncated for c in capped] == [False, True]
    # a short file under the chunk policy is still a list
    short = load_audio(files["flac44k"], AudioPolicy(on_long="chunk"))
    assert isinstance(short, list) and len(short) == 1 and short[0].chunk == 0


def test_chunk_drops_a_trailing_sliver(tmp_path):
    sf.write(tmp_path / "a.wav", sine(300, 10.02, 16000), 16000)
    clips = load_audio(tmp_path / "a.wav", AudioPolicy(on_long="chunk", max_seconds=5.0))
    assert [c.num_samples for c in clips] == [80000, 80000] and clips[-1].truncated


def test_unlimited(files):
    clip = load_audio(files["long40s"], AudioPolicy(max_seconds=None))
    assert clip.samples.shape == (40 * 16000,) and not clip.truncated


# -- problems ----------------------------------------------------------------------------------------
PROBLEM_FILES = [
    ("missing", "missing"),
    ("random", "corrupt"),
    ("header_only", "corrupt"),
    ("cut_wav", "corrupt"),
    ("cut_flac", "corrupt"),
    ("zero_frames", "empty"),
    ("zero_bytes", "empty"),
    ("silent", "empty"),
    ("too_short", "empty"),
    ("nan", "invalid"),
    ("inf", "invalid"),
]


@pytest.mark.parametrize(("name", "kind"), PROBLEM_FILES)
def test_problem_raises_with_path_and_sample_id(files, name, kind):
    with pytest.raises(AudioError) as err:
        load_audio(files[name], AudioPolicy(on_problem="raise"), sample_id=f"id-{name}")
    problem = err.value.problem
    assert problem.kind == kind
    assert problem.path == str(files[name]) and problem.sample_id == f"id-{name}"
    assert str(files[name]) in str(err.value) and f"id-{name}" in str(err.value)
    assert problem.detail
    assert pickle.loads(pickle.dumps(err.value)).problem == problem


@pytest.mark.parametrize(("name", "kind"), PROBLEM_FILES)
def test_problem_skipped_and_recorded(files, name, kind):
    report = AudioReport()
    assert load_audio(files[name], sample_id=name, report=report) is None
    s = report.summary()
    assert s["problems_by_kind"][kind] == 1 and s["problem_total"] == 1 and s["loaded"] == 0
    assert s["problems"] == [{"kind": kind, "path": str(files[name]), "sample_id": name,
                              "detail": report.problems[0].detail}]
    # the raise-on-problem path records too
    report2 = AudioReport()
    with pytest.raises(AudioError):
        load_audio(files[name], AudioPolicy(on_problem="raise"), report=report2)
    assert report2.problem_counts[kind] == 1


def test_skip_without_report_returns_none(files):
    assert load_audio(files["random"]) is None


def test_header_only_and_cut_wav_are_reported_as_truncated(files):
    r = AudioReport()
    load_audio(files["header_only"], report=r)
    load_audio(files["cut_wav"], report=r)
    assert all("truncated WAV" in p.detail for p in r.problems)


def test_torchaudio_fallback_for_formats_libsndfile_lacks(tmp_path, monkeypatch):
    path = tmp_path / "clip.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200))

    def fake_load(uri, *a, **k):
        assert str(uri) == str(path)
        return torch.from_numpy(np.stack([sine(440, 1.0, 24000)] * 2)), 24000

    monkeypatch.setattr(torchaudio, "load", fake_load)
    clip = load_audio(path)
    assert clip.samples.shape == (16000,) and peak_hz(clip.samples, 16000) == pytest.approx(440, abs=1)

    def broken(*a, **k):
        raise RuntimeError("no decoder")

    monkeypatch.setattr(torchaudio, "load", broken)
    with pytest.raises(AudioError, match="corrupt.*torchaudio: no decoder"):
        load_audio(path, AudioPolicy(on_problem="raise"))

    def without_torchcodec(*a, **k):  # what torchaudio >= 2.9 raises when torchcodec is not installed
        raise ImportError("TorchCodec is required for load_with_torchcodec. Please install torchcodec to use this.")

    monkeypatch.setattr(torchaudio, "load", without_torchcodec)
    with pytest.raises(AudioError, match=r"corrupt.*Format not recognised\. \(torchaudio's fallback needs torchcodec"):
        load_audio(path, AudioPolicy(on_problem="raise"))


# -- report ------------------------------------------------------------------------------------------
def test_report_lists_first_n_and_merges(files):
    a, b = AudioReport(max_listed=2), AudioReport(max_listed=2)
    for name in ("missing", "random", "silent"):
        load_audio(files[name], sample_id=name, report=a)
    load_audio(files["stereo48k"], report=a)
    load_audio(files["long40s"], report=b)
    load_audio(files["nan"], sample_id="n", report=b)
    sa = a.summary()
    assert [p["sample_id"] for p in sa["problems"]] == ["missing", "random"]
    assert sa["unlisted_problems"] == 1 and sa["problem_total"] == 3 and sa["loaded"] == 1

    merged = a.merge(b)
    sm = merged.summary()
    assert (sm["files"], sm["loaded"], sm["truncated"], sm["problem_total"]) == (6, 2, 1, 4)
    assert sm["problems_by_kind"] == {"missing": 1, "corrupt": 1, "empty": 1, "too_long": 0, "invalid": 1}
    assert sm["audio_seconds"] == pytest.approx(41.0)
    assert len(sm["problems"]) == 2 and sm["unlisted_problems"] == 2
    assert a.summary() == sa  # merge does not mutate
    assert AudioReport().merge().summary()["files"] == 0
    assert not merged.ok and AudioReport().ok
    assert set(sm["problems_by_kind"]) == set(PROBLEM_KINDS)

    clone = pickle.loads(pickle.dumps(merged))
    assert clone.summary() == sm
    clone.record_problem(AudioProblem("missing", "x", None, "gone"))
    assert "missing=2" in repr(clone)


# -- validate_audio ----------------------------------------------------------------------------------
def test_validate_workers_agree(files):
    items = [(p, name) for name, p in sorted(files.items())] * 2
    policy = AudioPolicy(on_long="chunk", max_seconds=15.0, max_chunks=2)
    for deep in (False, True):
        seen: list[tuple[int, int]] = []
        one = validate_audio(items, policy, workers=1, deep=deep, max_listed=100)
        two = validate_audio(items, policy, workers=2, deep=deep, max_listed=100,
                             progress=lambda done, total: seen.append((done, total)))
        assert one.summary() == two.summary()
        assert seen == [(i, len(items)) for i in range(1, len(items) + 1)]
        s = one.summary()
        assert s["files"] == len(items)
        assert s["problems_by_kind"]["missing"] == 2 and s["problems_by_kind"]["corrupt"] == 8
        assert s["chunked"] == 2 and s["truncated"] == 2


def test_validate_shallow_vs_deep(files):
    items = [(files[n], n) for n in ("stereo48k", "flac44k", "silent", "nan", "too_short", "long40s")]
    shallow = validate_audio(items, AudioPolicy(on_long="skip"))
    deep = validate_audio(items, AudioPolicy(on_long="skip"), deep=True)
    # headers cannot see silence; NaN in a float file is found by a scan of its samples; a full decode sees both
    assert shallow.summary()["problems_by_kind"] == {"missing": 0, "corrupt": 0, "empty": 1,
                                                     "too_long": 1, "invalid": 1}
    assert deep.summary()["problems_by_kind"] == {"missing": 0, "corrupt": 0, "empty": 2,
                                                  "too_long": 1, "invalid": 1}
    assert shallow.skipped_long == deep.skipped_long == 1


def test_validate_never_raises_and_accepts_bare_paths(files):
    report = validate_audio([files["random"], str(files["missing"])], AudioPolicy(on_problem="raise"))
    assert report.problem_total == 2 and report.problems[0].sample_id is None


# -- save_wav / policy ---------------------------------------------------------------------------------
def test_save_wav_atomic_16bit(tmp_path):
    x = sine(440, 0.5, 16000)
    x[0], x[1] = 1.5, -2.0  # clipped
    out = save_wav(tmp_path / "sub" / "o.wav", x, 16000)
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 8000, "PCM_16")
    back, _ = sf.read(out, dtype="float32")
    np.testing.assert_allclose(back[2:], x[2:], atol=1 / 32768 + 1e-6)
    assert back[0] == pytest.approx(1.0, abs=1e-4) and back[1] == pytest.approx(-1.0)
    assert os.listdir(tmp_path / "sub") == ["o.wav"]
    stereo = save_wav(tmp_path / "st.wav", np.stack([x, -x]), 8000)
    assert sf.info(stereo).channels == 2


def test_save_wav_failure_keeps_old_file(tmp_path, monkeypatch):
    target = save_wav(tmp_path / "o.wav", sine(440, 0.1, 16000), 16000)
    before = target.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(audio_mod.sf, "write", boom)
    with pytest.raises(OSError, match="disk full"):
        save_wav(target, sine(880, 0.2, 16000), 16000)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["o.wav"]
    with pytest.raises(ValueError):
        save_wav(tmp_path / "n.wav", np.array([np.nan], dtype=np.float32), 16000)


@pytest.mark.parametrize("kwargs", [
    {"sample_rate": 0}, {"sample_rate": 16000.0}, {"max_seconds": -1.0}, {"max_seconds": float("inf")},
    {"on_long": "drop"}, {"on_problem": "ignore"}, {"max_chunks": 0}, {"min_seconds": -0.1},
    {"min_seconds": 31.0}, {"mono": 1},
])
def test_policy_validation(kwargs):
    with pytest.raises((ValueError, TypeError)):
        AudioPolicy(**kwargs)


def test_policy_defaults():
    p = AudioPolicy()
    assert (p.sample_rate, p.mono, p.max_seconds, p.on_long, p.max_chunks, p.min_seconds, p.on_problem) == (
        16000, True, 30.0, "truncate", 20, 0.05, "skip")
    assert p.max_samples == 480000 and AudioPolicy(max_seconds=None, min_seconds=100.0).max_samples is None


def test_load_clip_names_the_problem_or_the_alteration(files):
    problem = load_clip(files["nan"], sample_id="s1")
    assert isinstance(problem, AudioProblem) and problem.kind == "invalid" and problem.sample_id == "s1"
    assert "NaN" in problem.message and str(files["nan"]) in problem.message
    report = AudioReport()
    clip = load_clip(files["long40s"], AudioPolicy(max_seconds=30), sample_id="s2", report=report)
    assert clip.alteration == "cut from 40.0 s to 30.0 s"
    assert report.summary()["altered"] == [{"path": str(files["long40s"]), "sample_id": "s2",
                                            "detail": "cut from 40.0 s to 30.0 s"}]
    assert load_clip(files["stereo48k"]).alteration is None
