#!/usr/bin/env python
"""Decode + resample speed: a fresh ``torchaudio.functional.resample`` per call vs the cached kernel.

Generates ``--n`` (default 200) clips of ``--seconds`` (10) s at ``--rate`` (44.1 kHz), 16-bit
mono WAV, in a temporary directory, then loads every clip through
``llaso_core.data.audio.load_audio`` (16 kHz, no length limit) twice:

(a) ``fresh``:  the module's resampler swapped for ``torchaudio.functional.resample``, which
    rebuilds the sinc kernel on every call;
(b) ``cached``: the pipeline as shipped (``torchaudio.transforms.Resample`` per rate pair in an
    ``lru_cache``).

Everything else (decode, checks, mono) is the same code. The two variants run back to back on
each clip (order alternating), ``--repeats`` times over all clips, so load drift on a shared
machine hits both alike; the median per-clip time and the total of each are reported, plus the
resample step alone and the kernel build time. Before timing, the outputs of (a) and (b) are
compared (max abs difference). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio

from llaso_core.data import audio as audio_mod
from llaso_core.data.audio import AudioPolicy, load_audio


def fresh_resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if orig_rate == new_rate:
        return samples
    with torch.inference_mode():
        return torchaudio.functional.resample(torch.from_numpy(samples), orig_rate, new_rate).numpy()


def make_clips(root: Path, n: int, seconds: float, rate: int) -> list[Path]:
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * rate)) / rate
    paths = []
    for i in range(n):
        freq = rng.uniform(100, 4000)
        x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)
        path = root / f"clip{i:04d}.wav"
        sf.write(path, x.astype(np.float32), rate, subtype="PCM_16")
        paths.append(path)
    return paths



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=44100)
    ap.add_argument("--target", type=int, default=16000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    policy = AudioPolicy(sample_rate=args.target, max_seconds=None)
    cached_resample = audio_mod.resample

    with tempfile.TemporaryDirectory(prefix="llaso-audio-bench-") as tmp:
        paths = make_clips(Path(tmp), args.n, args.seconds, args.rate)

        # same work: outputs agree
        clip_b = load_audio(paths[0], policy).samples
        audio_mod.resample = fresh_resample
        try:
            clip_a = load_audio(paths[0], policy).samples
        finally:
            audio_mod.resample = cached_resample
        max_diff = float(np.abs(clip_a - clip_b).max())

        # Interleaved per clip (order alternating) so that load drift on a shared machine hits
        # both sides alike; medians are robust to the spikes that remain.
        per_clip: dict[str, list[float]] = {"fresh": [], "cached": []}
        totals = {"fresh": 0.0, "cached": 0.0}
        for r in range(args.repeats):
            for i, p in enumerate(paths):
                order = ("fresh", "cached") if (i + r) % 2 == 0 else ("cached", "fresh")
                for name in order:
                    audio_mod.resample = fresh_resample if name == "fresh" else cached_resample
                    try:
                        start = time.perf_counter()
                        load_audio(p, policy)
                        elapsed = time.perf_counter() - start
                    finally:
                        audio_mod.resample = cached_resample
                    per_clip[name].append(elapsed)
                    totals[name] += elapsed

        # the resample step alone, one clip, interleaved calls
        x, rate = sf.read(paths[0], dtype="float32")
        step: dict[str, list[float]] = {"fresh": [], "cached": []}
        fns = {"fresh": fresh_resample, "cached": cached_resample}
        for fn in fns.values():
            fn(x, rate, args.target)
        for _ in range(100):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(x, rate, args.target)
                step[name].append(time.perf_counter() - start)
        kernel_ms = []
        for _ in range(20):
            start = time.perf_counter()
            torchaudio.transforms.Resample(rate, args.target)
            kernel_ms.append((time.perf_counter() - start) * 1e3)

    med = {k: statistics.median(v) * 1e3 for k, v in per_clip.items()}
    step_med = {k: statistics.median(v) * 1e3 for k, v in step.items()}
    result = {
        "clips": args.n, "seconds_per_clip": args.seconds, "source_rate": args.rate,
        "target_rate": args.target, "repeats": args.repeats, "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__, "torchaudio": torchaudio.__version__,
        "max_abs_diff_fresh_vs_cached": max_diff,
        "total_seconds_all_repeats": {k: round(v, 3) for k, v in totals.items()},
        "median_ms_per_clip": {k: round(v, 2) for k, v in med.items()},
        "speedup_decode_plus_resample_median": round(med["fresh"] / med["cached"], 3),
        "speedup_decode_plus_resample_total": round(totals["fresh"] / totals["cached"], 3),
        "resample_only_median_ms": {k: round(v, 2) for k, v in step_med.items()},
        "speedup_resample_only": round(step_med["fresh"] / step_med["cached"], 3),
        "kernel_build_median_ms": round(statistics.median(kernel_ms), 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
