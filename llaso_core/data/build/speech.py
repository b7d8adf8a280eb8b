"""Spoken instructions and inputs for a build: seeded voices, the synthesis cache, and standardised
16 kHz copies under ``out/audio/tts/`` (so a corpus folder is self-contained).

Synthesis goes through :func:`~llaso_core.tts.cache.synthesize_cached` (one WAV per text, voice,
rate and pitch); the 16 kHz copy of each is written once per build and kept decoded in a small
LRU so repeated instructions (a task's templates x voices) are not decoded again.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from llaso_core.data.audio import load_audio, save_wav

from .items import BuildError, stable_choice
from .spec import AudioOptions, TTSOptions


class SpeechError(Exception):
    """Text could not be spoken (empty, or the engine failed); the item is skipped."""


class Speaker:
    """Speaks text for one build. Thread-safe."""

    def __init__(self, options: TTSOptions, audio: AudioOptions, out: Path, host: Any, seed: int) -> None:
        self.options = options
        self.out = out
        self.seed = seed
        self.rate_hz = int(audio.sample_rate)
        self.policy = audio.policy(unlimited=True)
        try:
            factory = host.tts.get(options.engine).load()
        except Exception as exc:  # noqa: BLE001 - unknown engine or broken plugin
            raise BuildError(f"tts engine {options.engine!r}: {exc}") from None
        self.engine = factory()
        for voice in (*options.instruction_voices, *options.input_voices):
            try:
                self.engine.voice(voice)
            except (ValueError, TypeError) as exc:
                raise BuildError(f"tts: {exc}") from None
        self._lock = threading.Lock()
        self._decoded: OrderedDict[str, np.ndarray] = OrderedDict()
        self._written: set[str] = set()
        self.voices_used: Counter[str] = Counter()
        self.spoken = 0

    @property
    def version(self) -> str:
        return f"{self.engine.name} {self.engine.version}"

    # -- seeded choices --------------------------------------------------------------------
    def instruction_voice(self, key: str) -> str:
        return stable_choice(self.options.instruction_voices, self.seed, "voice", "instruction", key)

    def input_voice(self, key: str, avoid: str) -> str:
        """A voice for the input that is never the instruction's (vocal style mixing)."""
        pool = [v for v in self.options.input_voices if v != avoid] or [
            v for v in self.options.instruction_voices if v != avoid]
        if not pool:
            raise BuildError("tts: text-QA needs at least two distinct voices (instruction and input)")
        return stable_choice(pool, self.seed, "voice", "input", key)

    def rate(self, key: str, role: str) -> int | None:
        return stable_choice(self.options.rates, self.seed, "rate", role, key) if self.options.rates else None

    # -- speaking --------------------------------------------------------------------------
    def speak(self, text: str, voice: str, rate: int | None = None) -> tuple[str, np.ndarray]:
        """(path relative to ``out``, 16 kHz samples) of ``text`` in ``voice``."""
        from llaso_core.tts.cache import synthesize_cached

        try:
            cached = synthesize_cached(self.engine, text, voice, rate=rate, pitch=self.options.pitch,
                                       cache_dir=self.options.cache_dir)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise SpeechError(f"{voice}: {exc}") from None
        key = cached.stem
        rel = f"audio/tts/{key[:2]}/{key}.wav"
        with self._lock:
            self.voices_used[voice] += 1
            self.spoken += 1
            samples = self._decoded.get(key)
            if samples is not None:
                self._decoded.move_to_end(key)
                return rel, samples
        clip = load_audio(cached, self.policy)
        if clip is None:
            raise SpeechError(f"{voice}: the synthesised audio of {text[:60]!r} is unusable")
        samples = clip.samples
        with self._lock:
            if key not in self._written:
                save_wav(self.out / rel, samples, self.rate_hz)
                self._written.add(key)
            self._decoded[key] = samples
            while len(self._decoded) > 256:
                self._decoded.popitem(last=False)
        return rel, samples

    def silence(self) -> np.ndarray:
        return np.zeros(int(round(self.options.silence_seconds * self.rate_hz)), dtype=np.float32)

    def join(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """``first`` + the configured silence + ``second`` (pure-audio requests)."""
        return np.concatenate([first, self.silence(), second]).astype(np.float32)
