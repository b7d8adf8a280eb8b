"""Vocal-sound proxies for VSC: laughter, sigh, cough, throat clearing, sneeze, sniff.

Each sound is built from two sources -- a voiced glottal-pulse tone (harmonics of a jittered
f0 contour, shaped by vowel formants) and filtered noise -- with an envelope pattern that
defines the class. Every sound is drawn from its own parameter ranges by a seed; the speaker's
f0 range is male-like or female-like at random:

===============  ==============================================================================
laughter         3-6 "ha" syllables: aspiration then voiced /a/, 80-140 ms each, 60-110 ms gaps,
                 decaying level and falling f0
sigh             0.8-1.6 s breathy low-passed noise, slow rise and long decay, faint voicing
                 falling in pitch
cough            1-3 explosive bursts: 20 ms broadband onset, then 150-250 ms decaying rough
                 noise band (0.4-2.5 kHz) with low voicing
throat clearing  two "a-hem" humps, 0.3-0.7 s in all: low f0 (75-130 Hz) voicing with a 25-40 Hz
                 rattle (amplitude modulation), low-passed below 1.5 kHz
sneeze           a rising breathy voiced inhale (0.25-0.4 s), a 10-30 ms stop, then a sharp
                 high-passed (> 2 kHz) "choo" burst with a short voiced tail
sniff            1-3 short (0.1-0.25 s) inhaled high-band noise bursts (1-6 kHz, nasal
                 resonance), rising then cut off, at a lower level
===============  ==============================================================================
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from llaso_core.data.synth.dsp import SAMPLE_RATE, band_filter, fade, peak_normalise, resonances, silence

SOUNDS = ("laughter", "sigh", "cough", "throat clearing", "sneeze", "sniff")

_VOWEL_A = ([750, 1150, 2800], [130, 160, 250], [1.0, 0.6, 0.25])


def _n(seconds: float) -> int:
    return max(1, int(seconds * SAMPLE_RATE))


def _voiced(f0_start: float, f0_end: float, seconds: float, rng: np.random.Generator,
            formants=_VOWEL_A, breathiness: float = 0.2) -> np.ndarray:
    """A voiced segment: harmonics of a gliding, jittered f0 through formants, plus breath noise."""
    n = _n(seconds)
    f0 = np.linspace(f0_start, f0_end, n) * (1.0 + 0.01 * np.cumsum(rng.standard_normal(n)) / math.sqrt(n))
    phase = 2 * math.pi * np.cumsum(f0) / SAMPLE_RATE
    x = np.zeros(n)
    for k in range(1, 40):
        if k * max(f0_start, f0_end) > 7000:
            break
        x += np.sin(k * phase) / k ** 0.9
    x = x + breathiness * rng.standard_normal(n)
    centres, widths, gains = formants
    return band_filter(x, lambda f: 0.03 + resonances(f, centres, widths, gains))


def _noise(seconds: float, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    n = _n(seconds)
    return band_filter(rng.standard_normal(n),
                       lambda f: 1.0 / (1.0 + (low / np.maximum(f, 1.0)) ** 4) / (1.0 + (f / high) ** 4))


def _env(n: int, attack: float, release: float) -> np.ndarray:
    """Rise over ``attack`` (fraction of n) and fall over ``release`` (fraction), flat between."""
    t = np.linspace(0.0, 1.0, n)
    rise = np.clip(t / max(attack, 1e-6), 0.0, 1.0)
    fall = np.clip((1.0 - t) / max(release, 1e-6), 0.0, 1.0)
    return rise * fall


def _speaker_f0(rng: np.random.Generator) -> float:
    return float(rng.uniform(95, 140) if rng.random() < 0.5 else rng.uniform(180, 280))


def laughter(rng: np.random.Generator) -> np.ndarray:
    f0 = _speaker_f0(rng) * 1.3
    parts = []
    level = 1.0
    for i in range(int(rng.integers(3, 7))):
        dur = rng.uniform(0.08, 0.14)
        h = _noise(0.03, rng, 500, 6000) * 0.3
        a = _voiced(f0 * (1 - 0.04 * i), f0 * (0.92 - 0.04 * i), dur, rng, breathiness=0.5)
        syllable = np.concatenate([h, a * _env(len(a), 0.1, 0.4)])
        parts += [level * peak_normalise(syllable, 1.0), silence(rng.uniform(0.06, 0.11))]
        level *= rng.uniform(0.8, 0.92)
    return np.concatenate(parts)


def sigh(rng: np.random.Generator) -> np.ndarray:
    dur = rng.uniform(0.8, 1.6)
    breath = _noise(dur, rng, 150, rng.uniform(1200, 2000))
    f0 = _speaker_f0(rng)
    voice = _voiced(f0 * 1.2, f0 * 0.75, dur, rng, breathiness=1.0)
    x = peak_normalise(breath, 1.0) + 0.25 * peak_normalise(voice, 1.0)
    return x * _env(len(x), rng.uniform(0.25, 0.4), 0.6)


def cough(rng: np.random.Generator) -> np.ndarray:
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        onset = _noise(0.02, rng, 100, 7000)
        dur = rng.uniform(0.15, 0.25)
        body = peak_normalise(_noise(dur, rng, 400, 2500), 1.0) + 0.4 * peak_normalise(
            _voiced(rng.uniform(100, 150), rng.uniform(80, 110), dur, rng, breathiness=1.5), 1.0)
        body = body * np.exp(-np.linspace(0, rng.uniform(3, 5), len(body)))
        parts += [peak_normalise(np.concatenate([peak_normalise(onset, 1.0), body]), 1.0),
                  silence(rng.uniform(0.15, 0.3))]
    return np.concatenate(parts)


def throat_clearing(rng: np.random.Generator) -> np.ndarray:
    f0 = rng.uniform(75, 130)
    rattle = rng.uniform(25, 40)
    parts = []
    for share in (0.4, 0.6):
        dur = share * rng.uniform(0.3, 0.7)
        v = _voiced(f0 * 1.05, f0 * 0.95, dur, rng, formants=([500, 1000], [200, 300], [1.0, 0.5]),
                    breathiness=0.8)
        t = np.arange(len(v)) / SAMPLE_RATE
        v = v * (0.55 + 0.45 * np.sin(2 * math.pi * rattle * t)) * _env(len(v), 0.15, 0.3)
        parts += [v, silence(rng.uniform(0.03, 0.08))]
    x = np.concatenate(parts)
    return band_filter(x, lambda f: 1.0 / (1.0 + (f / 1500.0) ** 4))


def sneeze(rng: np.random.Generator) -> np.ndarray:
    f0 = _speaker_f0(rng)
    inhale = _voiced(f0 * 0.9, f0 * 1.4, rng.uniform(0.25, 0.4), rng, breathiness=1.2)
    inhale = 0.5 * peak_normalise(inhale, 1.0) * _env(len(inhale), 0.9, 0.05)
    burst = peak_normalise(_noise(rng.uniform(0.15, 0.25), rng, 2000, 7500), 1.0)
    burst = burst * np.exp(-np.linspace(0, 4, len(burst)))
    tail = 0.3 * peak_normalise(_voiced(f0 * 1.1, f0 * 0.8, 0.12, rng,
                                        formants=([300, 870, 2250], [100, 150, 250], [1, .4, .1])), 1.0)
    return np.concatenate([inhale, silence(rng.uniform(0.01, 0.03)), burst, tail * _env(len(tail), 0.1, 0.6)])


def sniff(rng: np.random.Generator) -> np.ndarray:
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        s = _noise(rng.uniform(0.1, 0.25), rng, 1000, 6000)
        s = band_filter(s, lambda f: 0.3 + resonances(f, [2500, 4000], [600, 900]))
        parts += [peak_normalise(s, 1.0) * _env(len(s), 0.85, 0.05), silence(rng.uniform(0.1, 0.2))]
    return 0.5 * np.concatenate(parts)


GENERATORS: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "laughter": laughter, "sigh": sigh, "cough": cough, "throat clearing": throat_clearing,
    "sneeze": sneeze, "sniff": sniff,
}


def render_vocal(sound: str, seed: int) -> np.ndarray:
    """The vocal sound ``sound`` drawn with ``seed``: 16 kHz float32, peak 0.8 (sniff 0.4)."""
    x = GENERATORS[sound](np.random.default_rng(seed))
    peak = 0.4 if sound == "sniff" else 0.8
    return fade(peak_normalise(np.asarray(x, dtype=np.float32), peak))
