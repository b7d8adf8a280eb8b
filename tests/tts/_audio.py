"""Signal helpers of the TTS tests: f0 by autocorrelation and a long-term spectrum distance."""

import numpy as np

SENTENCE = "The quick brown fox jumps over the lazy dog."


def f0_track(samples: np.ndarray, sample_rate: int, fmin: float = 60.0, fmax: float = 400.0) -> np.ndarray:
    """Fundamental frequency (Hz) of each 40 ms frame (hop 20 ms) by autocorrelation; NaN where the
    frame is quiet (< 5 % of the loudest frame's energy) or not clearly periodic (unvoiced).

    The autocorrelation is divided by the window's own, so the true period is not out-scored by
    half of it (octave errors)."""
    frame = int(0.04 * sample_rate)
    hop = frame // 2
    x = samples.astype(np.float64)
    lo, hi = int(sample_rate / fmax), int(sample_rate / fmin)
    window = np.hanning(frame)
    window_ac = np.correlate(window, window, "full")[frame - 1: frame + hi]
    starts = list(range(0, len(x) - frame, hop))
    energies = np.array([np.sum(x[s:s + frame] ** 2) for s in starts])
    track = np.full(len(starts), np.nan)
    for i, start in enumerate(starts):
        if energies[i] < 0.05 * energies.max():
            continue
        seg = (x[start: start + frame] - x[start: start + frame].mean()) * window
        ac = np.correlate(seg, seg, "full")[frame - 1: frame + hi] / window_ac
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5 * ac[0]:
            track[i] = sample_rate / lag
    return track


def f0(samples: np.ndarray, sample_rate: int) -> float:
    """Median f0 (Hz) over the voiced frames."""
    track = f0_track(samples, sample_rate)
    assert np.isfinite(track).any(), "no voiced frame found"
    return float(np.nanmedian(track))


def ltas(samples: np.ndarray, sample_rate: int = 22050, n_fft: int = 256) -> np.ndarray:
    """Long-term average log spectrum (dB) over 100 Hz - 5 kHz: the voice's spectral fingerprint.

    A short FFT (11.6 ms) smears the harmonics, so the pitch jitter of repeats barely moves it."""
    frames = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[:: n_fft // 2] * np.hanning(n_fft)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    return 10 * np.log10(power[(freqs >= 100) & (freqs <= 5000)] + 1e-12)


def spectral_distance(a: np.ndarray, b: np.ndarray, sample_rate: int = 22050) -> float:
    """RMS difference (dB) of two long-term spectra; repeats of one voice give < 0.5, two voices > 2."""
    return float(np.sqrt(np.mean((ltas(a, sample_rate) - ltas(b, sample_rate)) ** 2)))
