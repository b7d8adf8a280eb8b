"""Fixtures and signal helpers of the TTS tests (espeak-ng from the espeakng-loader wheel)."""

import numpy as np
import pytest

pytest.importorskip("espeakng_loader")

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="session")
def engine():
    from llaso_core.tts.espeak import EspeakEngine

    return EspeakEngine()


def f0(samples: np.ndarray, sample_rate: int, fmin: float = 60.0, fmax: float = 400.0) -> float:
    """Median fundamental frequency (Hz) by autocorrelation over the most energetic (voiced) frames."""
    frame = int(0.04 * sample_rate)
    hop = frame // 2
    x = samples.astype(np.float64)
    starts = range(0, len(x) - frame, hop)
    energies = np.array([np.sum(x[s:s + frame] ** 2) for s in starts])
    lo, hi = int(sample_rate / fmax), int(sample_rate / fmin)
    estimates = []
    for i in np.argsort(energies)[::-1][: max(5, len(energies) // 4)]:
        seg = x[i * hop: i * hop + frame]
        seg = (seg - seg.mean()) * np.hanning(frame)
        ac = np.correlate(seg, seg, "full")[frame - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:  # clearly periodic = voiced
            estimates.append(sample_rate / lag)
    assert estimates, "no voiced frame found"
    return float(np.median(estimates))


def ltas(samples: np.ndarray, n_fft: int = 1024) -> np.ndarray:
    """Long-term average log spectrum (dB), the voice's spectral fingerprint."""
    frames = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[:: n_fft // 2] * np.hanning(n_fft)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    return 10 * np.log10(power + 1e-10)


def spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((ltas(a) - ltas(b)) ** 2)))
