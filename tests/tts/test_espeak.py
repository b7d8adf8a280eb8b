"""The espeak-ng engine: plugin registration, audio sanity, rate/pitch/voice effects, errors, threads."""

import threading

import numpy as np
import pytest

from llaso_core.tts.engine import Synthesis, TTSEngine, UnknownVoiceError, Voice
from tests.tts._audio import SENTENCE, f0, f0_track, spectral_distance


def test_plugin_registers_the_engine_lazily():
    import llaso_plugins.tts as plugin
    from llaso_core.loader import load
    from llaso_core.tts.espeak import EspeakEngine

    host = load(entry_points=[], extra=[("tts", plugin)])
    assert "espeak-ng" in host.tts
    spec = host.tts.get("espeak-ng")
    assert spec.factory == "llaso_core.tts.espeak:EspeakEngine"
    factory = spec.load()
    assert factory is EspeakEngine
    engine = factory()
    assert isinstance(engine, TTSEngine) and engine.name == "espeak-ng"
    assert engine.version.startswith("1.")


def test_synthesis_is_non_silent_mono_float_of_plausible_length(engine):
    out = engine.synthesize(SENTENCE, voice="en-us")
    assert isinstance(out, Synthesis)
    assert out.sample_rate in (16000, 22050)
    assert out.samples.dtype == np.float32 and out.samples.ndim == 1
    assert 0.3 < out.duration < 5.0
    assert np.abs(out.samples).max() <= 1.0
    assert np.sqrt(np.mean(out.samples ** 2)) > 0.01
    assert out.voice == Voice("en-us", "en-us", "male", "american", out.voice.description)
    assert (out.rate, out.pitch) == (175, 50)  # effective defaults are recorded
    samples, sample_rate = out  # the (samples, sample_rate) shape TTSSpec documents
    assert samples is out.samples and sample_rate == out.sample_rate


def test_faster_rate_gives_shorter_audio(engine):
    slow = engine.synthesize(SENTENCE, voice="en-us", rate=120)
    fast = engine.synthesize(SENTENCE, voice="en-us", rate=350)
    assert fast.duration < 0.6 * slow.duration


def test_different_voices_give_different_audio(engine):
    us = engine.synthesize(SENTENCE, voice="en-us")
    again = engine.synthesize(SENTENCE, voice="en-us")
    scot = engine.synthesize(SENTENCE, voice="en-gb-scotland")
    female = engine.synthesize(SENTENCE, voice="en-us+f3")
    same = spectral_distance(us.samples, again.samples)
    assert same < 0.8
    assert spectral_distance(us.samples, scot.samples) > 1.5 + same
    assert spectral_distance(us.samples, female.samples) > 1.5 + same


def test_higher_pitch_parameter_raises_f0(engine):
    low = engine.synthesize(SENTENCE, voice="en-us", pitch=15)
    mid = engine.synthesize(SENTENCE, voice="en-us", pitch=50)
    high = engine.synthesize(SENTENCE, voice="en-us", pitch=90)
    f_low, f_mid, f_high = (f0(s.samples, s.sample_rate) for s in (low, mid, high))
    assert f_low < f_mid < f_high
    assert f_high > 1.3 * f_low


def test_curated_voices_sound_like_their_gender(engine):
    curated = engine.curated_voices()
    assert {v.gender for v in curated} == {"male", "female"}
    assert all(v.language.startswith("en") and v.accent for v in curated)
    for voice in curated:
        out = engine.synthesize(SENTENCE, voice=voice)
        pitch = f0(out.samples, out.sample_rate)
        if voice.gender == "female":
            assert pitch > 160, (voice.id, pitch)
        else:
            assert pitch < 140, (voice.id, pitch)


def test_voice_changes_are_applied_never_silently_kept(engine):
    # raw espeak_SetVoiceByName("en-gb+f2") fails and keeps the previous voice: en-gb is the file gmw/en
    engine.synthesize(SENTENCE, voice="en-us")
    gb_female = engine.synthesize(SENTENCE, voice="en-gb+f2")
    assert gb_female.voice.gender == "female"
    assert f0(gb_female.samples, gb_female.sample_rate) > 160
    gb = engine.synthesize(SENTENCE, voice="en-gb")
    assert f0(gb.samples, gb.sample_rate) < 140


def test_all_installed_voices_and_variants_are_exposed(engine):
    ids = [v.id for v in engine.voices()]
    assert len(ids) == len(set(ids)) > 100
    assert {"en-us", "en-gb", "en-029", "de", "fr-fr"} <= set(ids)
    variants = engine.variants()
    assert variants["f3"] == "female" and variants["m3"] == "male"
    annie = engine.voice("en-us+annie")  # variants are case-sensitive in espeak; resolved here
    assert annie.id == "en-us+Annie" and annie.gender == "female" and annie.accent == "american"
    out = engine.synthesize("Bonjour tout le monde.", voice="fr-fr")
    assert out.duration > 0.3


@pytest.mark.parametrize("voice", ["klingon", "en-us+nosuchvariant", "en-us+", "en_us"])
def test_unknown_voice_is_rejected_with_valid_examples(engine, voice):
    with pytest.raises(UnknownVoiceError) as info:
        engine.synthesize(SENTENCE, voice=voice)
    message = str(info.value)
    assert repr(voice) in message and "Valid voices include" in message
    assert isinstance(info.value, ValueError)


def test_did_you_mean(engine):
    with pytest.raises(UnknownVoiceError, match="did you mean 'en-gb-scotland'"):
        engine.voice("en-gb-scotlnd")


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_is_an_error(engine, text):
    with pytest.raises(ValueError, match="text is empty"):
        engine.synthesize(text, voice="en-us")


@pytest.mark.parametrize("kwargs", [{"rate": 79}, {"rate": 451}, {"pitch": -1}, {"pitch": 100}])
def test_rate_and_pitch_ranges(engine, kwargs):
    with pytest.raises(ValueError, match="out of range"):
        engine.synthesize(SENTENCE, voice="en-us", **kwargs)


def test_rate_must_be_an_integer(engine):
    with pytest.raises(TypeError, match="rate"):
        engine.synthesize(SENTENCE, voice="en-us", rate="fast")


JOBS = [
    ("Good morning, everyone.", "en-us", 175, 50),
    ("Please close the door behind you.", "en-gb+f3", 140, 70),
    ("What time does the train leave?", "en-gb-scotland", 260, 30),
    ("The weather is lovely today.", "en-029+f5", 200, 60),
    ("Turn the music up a little.", "en-us+m3", 320, 40),
    ("I would like a cup of tea.", "en-gb-x-rp+f4", 110, 85),
]


def _check_same(serial, threaded):
    # espeak keeps a little pitch-jitter state between utterances, so repeated calls agree to a few
    # samples, not bit for bit; a mixed-up voice, rate or pitch, or interleaved audio, would not
    assert abs(len(threaded.samples) - len(serial.samples)) <= 0.01 * len(serial.samples)
    a, b = f0_track(serial.samples, serial.sample_rate), f0_track(threaded.samples, threaded.sample_rate)
    n = min(len(a), len(b))
    both = np.isfinite(a[:n]) & np.isfinite(b[:n])
    assert both.sum() >= 5
    assert np.median(np.abs(a[:n][both] / b[:n][both] - 1)) < 0.05  # same pitch contour, frame by frame
    assert spectral_distance(serial.samples, threaded.samples) < 0.8
    assert (threaded.voice, threaded.rate, threaded.pitch) == (serial.voice, serial.rate, serial.pitch)


def test_concurrent_synthesis_matches_serial(engine):
    serial = {job: engine.synthesize(job[0], voice=job[1], rate=job[2], pitch=job[3]) for job in JOBS}
    results: dict = {}
    errors: list = []
    barrier = threading.Barrier(4)

    def worker(index):
        try:
            barrier.wait()
            for round_ in range(3):
                for job in JOBS[index % len(JOBS):] + JOBS[: index % len(JOBS)]:
                    results[(index, round_, job)] = engine.synthesize(job[0], voice=job[1], rate=job[2],
                                                                      pitch=job[3])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 4 * 3 * len(JOBS)
    for (_, _, job), out in results.items():
        _check_same(serial[job], out)


PHONEMIZER_SCRIPT = """
import espeakng_loader
from phonemizer import phonemize
from phonemizer.backend.espeak.wrapper import EspeakWrapper
EspeakWrapper.set_library(espeakng_loader.get_library_path())
EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
from llaso_core.tts.espeak import EspeakEngine
engine = EspeakEngine()
before = engine.synthesize("Hello there, friend.", voice="en-us+f3")
ipa = phonemize("hello there", language="en-us", backend="espeak").strip()
after = engine.synthesize("Hello there, friend.", voice="en-us+f3")
assert ipa.startswith("h"), ipa
assert abs(len(before.samples) - len(after.samples)) < 100, (len(before.samples), len(after.samples))
print("ok", ipa)
"""


def test_phonemizer_in_the_same_process_does_not_interfere():
    pytest.importorskip("phonemizer")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PHONEMIZER_SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
