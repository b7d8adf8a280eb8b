"""Audio recipes -> 16 kHz waveforms: the part of the corpus that runs in worker processes.

A recipe is a small JSON-able dict (so plans can be made in the parent and pickled cheaply):

``{"kind": "speech", "text", "voice", "rate", "pitch", "peak"?, "contour"?, "tremolo"?, "drive"?,
"griffin_lim"?, "seed"?}``
    espeak-ng speech, resampled to 16 kHz and edge-trimmed, then optional effects in this order:
    ``contour`` = [depth, Hz] pitch-range widening by a sinusoidal time warp (local pitch and
    speed scale by 1 + depth·sin(2π·Hz·t)), ``tremolo`` = [depth, Hz] amplitude modulation,
    ``drive`` = tanh saturation gain (harsh voice), ``griffin_lim`` = re-synthesis from an
    80-band mel magnitude spectrogram by 32 Griffin-Lim iterations (phase discarded); finally
    scaled to ``peak`` (default 0.7).
``{"kind": "words", "voice", "words": [{"text", "rate", "pitch", "peak"}], "gap"}``
    each word synthesised alone, trimmed, and joined with ``gap`` seconds of silence.
``{"kind": "note", "family", "source", "midi", "velocity", "seed"}``  :func:`music.render_note`
``{"kind": "vocal", "sound", "seed"}``  :func:`vocal.render_vocal`
``{"kind": "silence", "seconds"}``, ``{"kind": "concat", "parts": [...]}``,
``{"kind": "pad", "part", "lead", "total"}`` (leading silence, then padded to ``total`` s).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

from llaso_core.data.synth.dsp import SAMPLE_RATE, peak_normalise, silence, to_rate

Recipe = dict[str, Any]

_ENGINE = None


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from llaso_core.tts.espeak import EspeakEngine

        _ENGINE = EspeakEngine()
    return _ENGINE


def trim(x: np.ndarray, threshold: float = 0.01, margin: float = 0.02) -> np.ndarray:
    """Drop leading/trailing samples below ``threshold``·peak, keeping ``margin`` seconds."""
    a = np.abs(x)
    loud = np.nonzero(a > threshold * (a.max() if a.size else 0.0))[0]
    if loud.size == 0:
        return x
    pad = int(margin * SAMPLE_RATE)
    return x[max(0, loud[0] - pad):loud[-1] + 1 + pad]


@functools.lru_cache(maxsize=512)
def _speech(text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
    synthesis = _engine().synthesize(text, voice=voice, rate=rate, pitch=pitch)
    out = trim(to_rate(synthesis.samples, synthesis.sample_rate))
    out.setflags(write=False)
    return out


def speak(text: str, voice: str, rate: int = 175, pitch: int = 50) -> np.ndarray:
    """espeak-ng speech at 16 kHz, trimmed (cached per process: instructions repeat)."""
    return _speech(text, voice, int(rate), int(pitch))


# -- effects -------------------------------------------------------------------------------------
def time_warp(x: np.ndarray, depth: float, hz: float) -> np.ndarray:
    """Read ``x`` at speed 1 + depth·sin(2π·hz·t): pitch (and tempo) swing by ±depth."""
    if depth <= 0:
        return x
    n_out = len(x)
    t = np.arange(n_out) / SAMPLE_RATE
    position = (t + depth * (1 - np.cos(2 * math.pi * hz * t)) / (2 * math.pi * hz)) * SAMPLE_RATE
    position = np.clip(position, 0, len(x) - 1)
    return np.interp(position, np.arange(len(x)), x).astype(np.float32)


def tremolo(x: np.ndarray, depth: float, hz: float) -> np.ndarray:
    t = np.arange(len(x)) / SAMPLE_RATE
    return (x * (1.0 - depth * (0.5 + 0.5 * np.sin(2 * math.pi * hz * t)))).astype(np.float32)


N_FFT, HOP, N_MELS = 512, 128, 80


@functools.lru_cache(maxsize=1)
def _mel_bank() -> tuple[np.ndarray, np.ndarray]:
    """(filterbank [mels, bins], its pseudo-inverse) for HTK mel bands over 0-8 kHz."""
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = hz(np.linspace(mel(0.0), mel(SAMPLE_RATE / 2), N_MELS + 2))
    bank = np.zeros((N_MELS, len(bins)))
    for i in range(N_MELS):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        bank[i] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0.0, None)
    return bank, np.linalg.pinv(bank)


def _window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1]


def stft(x: np.ndarray) -> np.ndarray:
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    return np.fft.rfft(frames * _window(), axis=1)


def _overlap_add(frames: np.ndarray) -> np.ndarray:
    """Sum frames (F, N_FFT) placed every HOP samples (N_FFT is a multiple of HOP)."""
    parts = N_FFT // HOP
    blocks = np.zeros((len(frames) + parts - 1, HOP))
    for j in range(parts):
        blocks[j:j + len(frames)] += frames[:, j * HOP:(j + 1) * HOP]
    return blocks.reshape(-1)


def istft(spec: np.ndarray, length: int) -> np.ndarray:
    frames = np.fft.irfft(spec, N_FFT, axis=1) * _window()
    norm = _overlap_add(np.broadcast_to(_window() ** 2, frames.shape))
    out = _overlap_add(frames) / np.maximum(norm, 1e-8)
    return out[N_FFT // 2:N_FFT // 2 + length]


def griffin_lim_resynthesis(x: np.ndarray, seed: int, iterations: int = 32) -> np.ndarray:
    """The "fake" of SSD: mel magnitude (80 bands) -> linear magnitude by pseudo-inverse ->
    phase by fast Griffin-Lim (momentum 0.99) from a seeded random start."""
    bank, inverse = _mel_bank()
    magnitude = np.abs(stft(x.astype(np.float64)))
    mel = magnitude @ bank.T
    linear = np.clip(mel @ inverse.T, 0.0, None)
    rng = np.random.default_rng(seed)
    angles = np.exp(2j * math.pi * rng.random(linear.shape))
    previous = np.zeros_like(angles)
    for _ in range(iterations):
        rebuilt = stft(istft(linear * angles, len(x)))
        accelerated = rebuilt - 0.99 / (1 + 0.99) * previous
        previous = rebuilt
        angles = accelerated / np.maximum(np.abs(accelerated), 1e-8)
    return istft(linear * angles, len(x)).astype(np.float32)


# -- recipes -------------------------------------------------------------------------------------
def _render_speech(r: Recipe) -> np.ndarray:
    x = np.array(speak(r["text"], r["voice"], r.get("rate", 175), r.get("pitch", 50)), dtype=np.float32)
    if r.get("contour"):
        x = time_warp(x, *r["contour"])
    if r.get("tremolo"):
        x = tremolo(x, *r["tremolo"])
    if r.get("drive"):
        x = np.tanh(r["drive"] * peak_normalise(x, 1.0)).astype(np.float32)
    if r.get("griffin_lim"):
        x = griffin_lim_resynthesis(x, int(r.get("seed", 0)))
    return peak_normalise(x, r.get("peak", 0.7))


def _render_words(r: Recipe) -> np.ndarray:
    parts = []
    for i, word in enumerate(r["words"]):
        if i:
            parts.append(silence(r["gap"]))
        w = speak(word["text"], r["voice"], word.get("rate", 160), word.get("pitch", 50))
        parts.append(peak_normalise(np.array(w, dtype=np.float32), word.get("peak", 0.7)))
    return np.concatenate(parts)


def _render_pad(r: Recipe) -> np.ndarray:
    x = np.concatenate([silence(r.get("lead", 0.0)), render(r["part"])])
    total = int(r["total"] * SAMPLE_RATE)
    return np.pad(x, (0, max(0, total - len(x))))


def render(recipe: Recipe) -> np.ndarray:
    """The recipe's audio: mono float32 at 16 kHz."""
    kind = recipe["kind"]
    if kind == "speech":
        return _render_speech(recipe)
    if kind == "words":
        return _render_words(recipe)
    if kind == "note":
        from llaso_core.data.synth.music import Note, render_note

        return render_note(Note(recipe["family"], recipe["source"], recipe["midi"], recipe["velocity"],
                                recipe.get("seed", 0)))
    if kind == "vocal":
        from llaso_core.data.synth.vocal import render_vocal

        return render_vocal(recipe["sound"], recipe["seed"])
    if kind == "silence":
        return silence(recipe["seconds"])
    if kind == "concat":
        return np.concatenate([render(p) for p in recipe["parts"]]).astype(np.float32)
    if kind == "pad":
        return _render_pad(recipe)
    raise ValueError(f"unknown audio recipe kind {kind!r}")


def write(path: Path, samples: np.ndarray) -> float:
    """Write 16-bit PCM WAV at 16 kHz; returns the duration in seconds."""
    from llaso_core.data.sndfile import sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(samples, -1.0, 1.0), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return len(samples) / SAMPLE_RATE


def render_jobs(root: str, jobs: list[tuple[str, Recipe]]) -> list[tuple[str, float]]:
    """Render and write ``(relative path, recipe)`` jobs under ``root``: the worker entry point.
    Returns (relative path, seconds) per job."""
    base = Path(root)
    return [(rel, write(base / rel, render(recipe))) for rel, recipe in jobs]
