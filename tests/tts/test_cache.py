"""The disk cache of synthesised speech."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from llaso_core.tts.cache import cache_key, cache_path, default_cache_dir, synthesize_cached
from llaso_core.tts.engine import Synthesis, TTSEngine, UnknownVoiceError, Voice


class Counting(TTSEngine):
    """Wraps an engine and counts its syntheses."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    @property
    def version(self):
        return self.inner.version

    def voices(self):
        return self.inner.voices()

    def voice(self, voice):
        return self.inner.voice(voice)

    def synthesize(self, text, *, voice, rate=None, pitch=None):
        self.calls += 1
        return self.inner.synthesize(text, voice=voice, rate=rate, pitch=pitch)


def test_cache_hit_returns_the_same_file_without_resynthesis(engine, tmp_path):
    counting = Counting(engine)
    first = synthesize_cached(counting, "Hello there.", "en-us+f3", 150, 60, cache_dir=tmp_path)
    assert counting.calls == 1 and first.is_file() and first.suffix == ".wav"
    stamp = first.stat().st_mtime_ns
    second = synthesize_cached(counting, "Hello there.", "en-us+f3", 150, 60, cache_dir=tmp_path)
    assert second == first and counting.calls == 1 and first.stat().st_mtime_ns == stamp
    # any change of text, voice, rate or pitch is another entry
    others = {synthesize_cached(counting, "Hello there!", "en-us+f3", 150, 60, cache_dir=tmp_path),
              synthesize_cached(counting, "Hello there.", "en-us", 150, 60, cache_dir=tmp_path),
              synthesize_cached(counting, "Hello there.", "en-us+f3", 151, 60, cache_dir=tmp_path),
              synthesize_cached(counting, "Hello there.", "en-us+f3", 150, 61, cache_dir=tmp_path)}
    assert len(others) == 4 and first not in others and counting.calls == 5
    # aliases of one voice share the entry (variant names are resolved before keying)
    assert synthesize_cached(counting, "Hello there.", "en-us+F3", 150, 60, cache_dir=tmp_path) == first
    assert counting.calls == 5
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".wav"]  # no temp files left


def test_cached_file_is_16_bit_wav_of_the_synthesis(engine, tmp_path):
    path = synthesize_cached(engine, "Testing the cache.", "en-gb", cache_dir=tmp_path)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)
    assert info.samplerate == engine.sample_rate
    audio, _ = sf.read(str(path), dtype="float32")
    fresh = engine.synthesize("Testing the cache.", voice="en-gb")
    assert abs(len(audio) - len(fresh.samples)) <= 0.01 * len(fresh.samples)
    assert np.sqrt(np.mean(audio ** 2)) > 0.01


def test_key_covers_engine_and_version():
    base = cache_key("espeak-ng", "1", "hi", "en-us", None, None)
    assert len(base) == 64
    assert base != cache_key("espeak-ng", "2", "hi", "en-us", None, None)
    assert base != cache_key("other", "1", "hi", "en-us", None, None)
    assert base != cache_key("espeak-ng", "1", "hi", "en-us", 175, None)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LLASO_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "tts"
    monkeypatch.delenv("LLASO_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "llaso" / "tts"


def test_cache_env_is_used(engine, monkeypatch, tmp_path):
    monkeypatch.setenv("LLASO_CACHE_DIR", str(tmp_path))
    path = synthesize_cached(engine, "Environment.", "en-us")
    assert tmp_path / "tts" in path.parents


def test_errors_come_before_any_file(engine, tmp_path):
    with pytest.raises(UnknownVoiceError):
        synthesize_cached(engine, "Hi.", "nope", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="text is empty"):
        synthesize_cached(engine, "", "en-us", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*"))


class Fake(TTSEngine):
    """A deterministic engine without espeak, for the cache's own behaviour."""

    name = "fake"
    version = "0"

    def __init__(self):
        self.calls = 0

    def voices(self):
        return [Voice("a", "en")]

    def synthesize(self, text, *, voice, rate=None, pitch=None):
        self.calls += 1
        t = np.arange(16000) / 16000
        return Synthesis(0.5 * np.sin(2 * np.pi * 220 * t), 16000, self.voice(voice), rate, pitch)


def test_cache_with_a_plain_engine_round_trips(tmp_path):
    fake = Fake()
    path = synthesize_cached(fake, "x", "a", cache_dir=tmp_path)
    assert path == cache_path(fake, "x", "a", cache_dir=tmp_path)
    audio, rate = sf.read(str(path), dtype="float32")
    assert rate == 16000 and np.allclose(audio, fake.synthesize("x", voice="a").samples, atol=1 / 32767)
    synthesize_cached(fake, "x", Voice("a", "en"), cache_dir=tmp_path)
    assert fake.calls == 2  # one cache miss + the direct call above
