"""Synthetic instrument notes for IC / ISC / PP / VC (an NSynth stand-in).

A :class:`Note` is (family, source, MIDI pitch, velocity, seed) and renders to one second of
16 kHz audio (0.75 s held, then the release). Labels are exact by construction:

* **pitch**: every partial of every timbre is placed relative to f0 = 440·2^((p−69)/12); the
  Karplus-Strong string tunes its loop with a fractional delay. Vibrato (flute, string, reed,
  vocal) stays within ±0.6 % (±10 cents), so round(12·log2(f/440)+69) recovers p.
* **velocity** (127/100/75/50/25): the note is normalised and then scaled to a peak of
  0.9·v/127, and brightness grows with velocity (high partials damped by exp(−0.3·(k−1)·(1−v/127))).
* **family**: one timbre recipe each -- additive (bass, brass, flute, keyboard, organ, reed,
  string), FM (synth lead, and the mallet's inharmonic bar partials), Karplus-Strong (guitar),
  glottal pulses through vowel formants (vocal) -- with its own envelope and MIDI range.
* **source**, as processing classes: *acoustic* = partial-amplitude jitter, a noise component
  (breath/bow/hammer) and a synthetic room reverb; *electronic* = tanh saturation, 5-7 Hz
  tremolo and a pickup band-pass; *synthetic* = dry, noiseless, perfectly periodic oscillators.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from llaso_core.data.synth.dsp import SAMPLE_RATE, adsr, band_filter, fade, hz_of, peak_normalise, resonances

FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
            "synth lead", "vocal")
SOURCES = ("acoustic", "electronic", "synthetic")
VELOCITIES = (127, 100, 75, 50, 25)

#: MIDI range per family (inclusive), within NSynth's; all families together span 28-96
MIDI_RANGE: dict[str, tuple[int, int]] = {
    "bass": (28, 60), "brass": (40, 84), "flute": (60, 96), "guitar": (40, 84), "keyboard": (28, 96),
    "mallet": (48, 96), "organ": (36, 90), "reed": (48, 84), "string": (36, 90), "synth lead": (36, 90),
    "vocal": (48, 80),
}
DURATION = 1.0  #: seconds per note
HOLD = 0.75  #: seconds before the release
NYQUIST_MARGIN = 7600.0  #: partials stay below this (Hz)


@attrs.frozen
class Note:
    family: str
    source: str
    midi: int
    velocity: int
    seed: int = 0

    @property
    def f0(self) -> float:
        return hz_of(self.midi)

    @property
    def key(self) -> str:
        """The note's identity for train/eval disjointness (the seed only varies the noise)."""
        return f"{self.family}|{self.source}|{self.midi}|{self.velocity}"


def _time(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SAMPLE_RATE


def _phase(f0: float, n: int, vibrato: float = 0.0, vib_rate: float = 5.0, vib_delay: float = 0.15) -> np.ndarray:
    """Instantaneous phase (radians, of the fundamental) with optional delayed sinusoidal vibrato."""
    t = _time(n)
    depth = vibrato * np.clip((t - vib_delay) / 0.2, 0.0, 1.0)
    freq = f0 * (1.0 + depth * np.sin(2 * math.pi * vib_rate * t))
    return 2 * math.pi * np.cumsum(freq) / SAMPLE_RATE


def _additive(f0: float, n: int, amps, *, phase: np.ndarray | None = None, decays=None,
              ratios=None) -> np.ndarray:
    """Sum of partials ``amps[k]·sin(ratio_k·phase)`` (ratio_k = k+1 unless given), optional
    per-partial exponential decay rates (1/s); partials above :data:`NYQUIST_MARGIN` dropped."""
    phase = _phase(f0, n) if phase is None else phase
    t = _time(n)
    out = np.zeros(n)
    for k, a in enumerate(amps):
        ratio = ratios[k] if ratios is not None else k + 1
        if ratio * f0 >= NYQUIST_MARGIN or a == 0:
            continue
        partial = a * np.sin(ratio * phase)
        if decays is not None:
            partial *= np.exp(-decays[k] * t)
        out += partial
    return out


def _bright(amps, velocity: int) -> list[float]:
    soft = 1.0 - velocity / 127.0
    return [a * math.exp(-0.3 * k * soft) for k, a in enumerate(amps)]


def _karplus_strong(f0: float, n: int, rng: np.random.Generator, decay: float = 0.996) -> np.ndarray:
    """Plucked string: a noise burst circulating in a delay loop of period P = sr/f0 samples.
    Loop filter h = [(1−f)/2, 1/2, f/2] at lags M, M+1, M+2 (an averaging low-pass with linear
    fractional delay): total delay M + 0.5 + f = P."""
    period = SAMPLE_RATE / f0
    m = int(math.floor(period - 0.5))
    frac = period - 0.5 - m
    h0, h1, h2 = decay * 0.5 * (1 - frac), decay * 0.5, decay * 0.5 * frac
    y = np.zeros(n + m + 2)
    y[:m + 2] = rng.uniform(-1, 1, m + 2)
    y[:m + 2] -= y[:m + 2].mean()
    pos = m + 2
    while pos < len(y):  # each block only depends on samples at least m earlier
        end = min(pos + m, len(y))
        idx = np.arange(pos, end)
        y[pos:end] = h0 * y[idx - m] + h1 * y[idx - m - 1] + h2 * y[idx - m - 2]
        pos = end
    return y[m + 2:]


def _tone(note: Note, n: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    """The dry tone of the note's family (before source processing and level)."""
    f0, v = note.f0, note.velocity
    t = _time(n)

    def amps(values):
        values = _bright(values, v)
        return [a * (1.0 + jitter * rng.uniform(-1, 1)) for a in values]

    family = note.family
    if family == "bass":
        x = _additive(f0, n, amps([1 / k * math.exp(-k * f0 / 900) for k in range(1, 30)]))
        return x * adsr(n, 0.008, 0.4, 0.45, 0.1) * np.exp(-0.8 * t)
    if family == "brass":
        x = _additive(f0, n, amps([math.exp(-abs(k - 3) / 2.5) for k in range(1, 25)]))
        return x * adsr(n, 0.06, 0.1, 0.85, DURATION - HOLD)
    if family == "flute":
        x = _additive(f0, n, amps([1.0, 0.28, 0.1, 0.04]), phase=_phase(f0, n, vibrato=0.005))
        return x * adsr(n, 0.08, 0.05, 0.9, DURATION - HOLD)
    if family == "guitar":
        return _karplus_strong(f0, n, rng) * adsr(n, 0.002, 0.01, 1.0, 0.05)
    if family == "keyboard":
        ratios = [k * math.sqrt(1 + 0.0002 * k * k) for k in range(1, 20)]
        ratios[0] = 1.0
        x = _additive(f0, n, amps([1 / k ** 1.3 for k in range(1, 20)]), ratios=ratios,
                      decays=[1.2 + 0.6 * k for k in range(19)])
        return x * adsr(n, 0.003, 0.02, 1.0, DURATION - HOLD)
    if family == "mallet":  # FM-like bar: the fundamental and two inharmonic modes
        x = _additive(f0, n, amps([1.0, 0.3, 0.1]), ratios=[1.0, 3.93, 9.54], decays=[3.0, 9.0, 18.0])
        return x * adsr(n, 0.002, 0.01, 1.0, 0.05)
    if family == "organ":
        drawbars = [1.0, 0.8, 0.6, 0.5, 0.0, 0.3, 0.0, 0.25]
        x = _additive(f0, n, amps(drawbars))
        return x * adsr(n, 0.01, 0.01, 1.0, 0.02)
    if family == "reed":
        x = _additive(f0, n, amps([1 / k if k % 2 else 0.08 / k for k in range(1, 20)]),
                      phase=_phase(f0, n, vibrato=0.003))
        return x * adsr(n, 0.04, 0.05, 0.9, DURATION - HOLD)
    if family == "string":
        x = _additive(f0, n, amps([1 / k for k in range(1, 30)]), phase=_phase(f0, n, vibrato=0.006, vib_rate=5.5))
        body = band_filter(x, lambda f: 0.4 + resonances(f, [280, 460, 1100, 2500], [120, 200, 400, 900]))
        return body * adsr(n, 0.15, 0.1, 0.85, DURATION - HOLD)
    if family == "synth lead":  # FM, carrier:modulator 1:1 (harmonic), index ~2.5
        phase = _phase(f0, n)
        index = 1.5 + 2.0 * v / 127
        x = np.sin(phase + index * np.sin(phase)) + 0.5 * np.sin(phase * 1.0 + index * np.sin(2 * phase))
        return x * adsr(n, 0.01, 0.1, 0.8, DURATION - HOLD)
    if family == "vocal":
        phase = _phase(f0, n, vibrato=0.006, vib_rate=5.0)
        x = _additive(f0, n, [1 / k ** 0.8 for k in range(1, 40)], phase=phase)
        formant = band_filter(x, lambda f: 0.05 + resonances(f, [750, 1150, 2800], [130, 160, 250], [1.0, 0.6, 0.25]))
        return formant * adsr(n, 0.07, 0.05, 0.9, DURATION - HOLD)
    raise KeyError(f"unknown instrument family {family!r}")


def _room(rng: np.random.Generator, seconds: float = 0.3) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    ir = rng.standard_normal(n) * np.exp(-_time(n) / (seconds / 5))
    ir[0] = 0.0
    return ir / np.sqrt(np.sum(ir ** 2))


def _process(x: np.ndarray, note: Note, rng: np.random.Generator) -> np.ndarray:
    n = len(x)
    x = peak_normalise(x, 1.0).astype(np.float64)
    if note.source == "acoustic":
        noise = band_filter(rng.standard_normal(n), lambda f: resonances(f, [note.f0 * 2, 3000], [note.f0, 3000]))
        x = x + 0.04 * peak_normalise(noise, 1.0) * np.abs(x).max() * adsr(n, 0.01, 0.1, 0.4, 0.2)
        wet = np.convolve(x, _room(rng))[:n]
        x = x + 0.35 * wet / (np.abs(wet).max() + 1e-9)
    elif note.source == "electronic":
        x = np.tanh(3.0 * x) / math.tanh(3.0)
        rate = rng.uniform(5.0, 7.0)
        x = x * (1.0 - 0.25 * (0.5 + 0.5 * np.sin(2 * math.pi * rate * _time(n))))
        x = band_filter(x, lambda f: 1.0 / (1.0 + (70.0 / np.maximum(f, 1.0)) ** 2) / (1.0 + (f / 5000.0) ** 4))
    elif note.source != "synthetic":
        raise KeyError(f"unknown instrument source {note.source!r}")
    return x


def render_note(note: Note) -> np.ndarray:
    """One second of 16 kHz mono float32, peak 0.9·velocity/127."""
    rng = np.random.default_rng(note.seed)
    n = int(DURATION * SAMPLE_RATE)
    jitter = 0.2 if note.source == "acoustic" else 0.0
    x = _process(_tone(note, n, rng, jitter), note, rng)
    return fade(peak_normalise(np.asarray(x, dtype=np.float32), 0.9 * note.velocity / 127.0), 0.003)
