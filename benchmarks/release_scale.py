#!/usr/bin/env python
"""``llaso train`` on LLaSO-Align-shaped release roots of growing size: time to step 1 and peak RSS.

LLaSO-Align is about 12M ASR records in one JSON list (``text_audio/ASR_stage1_train.json``). For
each ``--records`` size this script writes such a root (LibriSpeech-like transcripts, the release's
18 instruction phrasings, Windows separators in ``voice``), whose records point at ``--clips`` real
FLAC clips (0.5-8 s, harmonic tones with a syllable-rate envelope), then runs, as a user would,

    llaso train --data ROOT --preset cpu --stage align --tasks ASR --modalities ta --max-steps 5

twice in fresh processes with one ``$LLASO_CACHE_DIR``: the first run builds the index and measures
the clip durations; the second reuses both. Reported per run: seconds from the process start to
the first line of ``align/metrics.jsonl`` (step 1 done), to the end, and the peak RSS of the
``llaso train`` process (``ru_maxrss``; its data-loader worker is reported apart). The index build
time is the index sidecar's.

Baseline (``--baseline RECORDS``, default 100000; 0 skips it): the data path of llaso before the
index (``load_release`` into a list of every sample, every header validated, every header read
again for length grouping), timed and measured in its own process up to the point where training
would start. Ratios are against it at the same size where sizes coincide.

Targets (issue 10): peak RSS under 2 GB at 1M records and flat in the record count (250k vs 1M
within 20%); step 1 within 60 s once indexed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from release_records import words, write_records

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTRUCTIONS = [
    "Please transcribe the following audio into text.", "Convert the speech in this recording to text.",
    "What is being said in this audio clip?", "Write down exactly what the speaker says.",
    "Transcribe this English speech.", "Listen to the audio and provide a transcription.",
    "Give the verbatim transcript of the recording.", "Turn the spoken words into written text.",
    "Please write out the words you hear.", "Provide an accurate transcript of this speech segment.",
    "Transcribe the utterance below.", "What does the speaker say? Answer with the transcript only.",
    "Produce the text of this spoken passage.", "Could you transcribe this audio for me?",
    "Type out the content of the following speech.", "Generate a transcription for this clip.",
    "Record in writing what is spoken here.", "Transcribe the audio recording word for word.",
]


def write_clips(root: Path, count: int, seed: int = 0) -> list[str]:
    """``count`` FLAC clips under ``root/LibriSpeech``; their release-style (Windows) paths."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(seed)
    paths = []
    for c in range(count):
        speaker, chapter = 100 + c % 40, 1000 + c // 40
        rel = f"LibriSpeech/train-clean-100/{speaker}/{chapter}/{speaker}-{chapter}-{c:04d}.flac"
        seconds = rng.uniform(0.5, 8.0)
        t = np.arange(int(16000 * seconds)) / 16000
        f0 = rng.uniform(90, 250)
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        wave *= 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 6) * t)  # a syllable-rate envelope
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(path, (0.1 * wave).astype(np.float32), 16000, format="FLAC")
        paths.append(rel.replace("/", "\\"))
    return paths


def write_root(root: Path, records: int, clips: list[str], seed: int = 0) -> Path:
    """``root/text_audio/ASR_stage1_train.json`` with ``records`` records, streamed to disk."""
    def record(i: int, rng) -> dict:
        return {"voice": [clips[i % len(clips)]], "conversations": [
            {"from": "human", "value": f"{INSTRUCTIONS[i % len(INSTRUCTIONS)]}<audio>"},
            {"from": "gpt", "value": words(rng).upper()}]}
    return write_records(root / "text_audio" / "ASR_stage1_train.json", records, record, seed)


def run_train(root: Path, out: Path, cache: Path, max_steps: int, timeout: float) -> dict:
    """``llaso train`` in a fresh process (through ``--child-train``): seconds to step 1 and to the end, peak RSS."""
    env = {**os.environ, "LLASO_CACHE_DIR": str(cache)}
    command = [sys.executable, __file__, "--child-train", str(root), str(out), str(max_steps)]
    metrics = out / "align" / "metrics.jsonl"
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_step = None
    while process.poll() is None:
        if first_step is None and metrics.is_file() and metrics.stat().st_size > 0:
            first_step = time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            process.kill()
            raise RuntimeError(f"llaso train on {root} ran past {timeout} s")
        time.sleep(0.1)
    total = time.perf_counter() - started
    output = process.stdout.read()
    if process.returncode != 0:
        raise RuntimeError(f"llaso train failed ({process.returncode}):\n{output[-3000:]}")
    if first_step is None:  # the step ended between two polls right before the exit
        first_step = total
    usage = json.loads((out / "rusage.json").read_text())
    steps = len(metrics.read_text().splitlines())
    return {"first_step_s": first_step, "total_s": total, "steps": steps, **usage}


def child_train(root: str, out: str, max_steps: str) -> None:
    """Run the ``llaso train`` CLI in this process, then write its peak RSS (and its workers')."""
    from llaso_cli.app import app

    sys.argv = ["llaso", "train", "--data", root, "--preset", "cpu", "--stage", "align", "--tasks", "ASR",
                "--modalities", "ta", "--max-steps", max_steps, "--out", out]
    try:
        app(standalone_mode=False)
    finally:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "rusage.json").write_text(json.dumps({
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def child_baseline(root: str, out: str) -> None:
    """The pre-index data path up to step 1: every sample in a list, every header checked, then
    read again for each sample's length."""
    import soundfile

    from llaso_core.data.audio import AudioPolicy, validate_audio
    from llaso_core.data.release import load_release, resolve

    started = time.perf_counter()
    samples = [s for s in load_release(root) if s.split == "train" and s.task == "ASR" and s.modality == "ta"]
    loaded = time.perf_counter()
    items = [(resolve(root, a), s.id) for s in samples for a in s.audio]
    validate_audio(items, AudioPolicy(), workers=4, max_listed=len(items))
    validated = time.perf_counter()
    lengths = [sum(soundfile.info(str(resolve(root, a))).frames for a in s.audio) for s in samples]
    done = time.perf_counter()
    Path(out).write_text(json.dumps({
        "samples": len(samples), "load_s": loaded - started, "validate_s": validated - loaded,
        "lengths_s": done - validated, "before_step_1_s": done - started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "checked": len(lengths)}))


def run_baseline(root: Path, out: Path, timeout: float) -> dict:
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child-baseline", str(root), str(out)], check=True, timeout=timeout)
    return {**json.loads(out.read_text()), "wall_s": time.perf_counter() - started}


def index_build_s(cache: Path) -> float:
    return sum(json.loads(p.read_text())["seconds"] for p in (cache / "index").glob("*.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--max-steps", type=int, default=5)
    parser.add_argument("--baseline", type=int, default=100_000, help="records for the pre-index baseline (0: none)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--keep", type=Path, help="keep the generated roots and runs here")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="llaso-release-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        clip_root = work / "clips"
        clips = write_clips(clip_root, args.clips)
        for records in sorted(set(args.records + ([args.baseline] if args.baseline else []))):
            root = work / f"align-{records}"
            if root.exists():
                shutil.rmtree(root)
            root.mkdir()
            (root / "LibriSpeech").symlink_to(clip_root / "LibriSpeech")
            t0 = time.perf_counter()
            file = write_root(root, records, clips)
            row = {"records": records, "json_mib": file.stat().st_size / 2**20,
                   "write_s": time.perf_counter() - t0}
            if records == args.baseline:
                row["baseline"] = run_baseline(root, work / f"baseline-{records}.json", args.timeout)
                print(f"{records:>9,} baseline: {row['baseline']}", flush=True)
            if records in args.records:
                cache = work / f"cache-{records}"
                shutil.rmtree(cache, ignore_errors=True)
                row["first"] = run_train(root, work / f"run-{records}-a", cache, args.max_steps, args.timeout)
                row["index_build_s"] = index_build_s(cache)
                row["reused"] = run_train(root, work / f"run-{records}-b", cache, args.max_steps, args.timeout)
                print(f"{records:>9,} records: index {row['index_build_s']:.1f} s; first run {row['first']}; "
                      f"reused {row['reused']}", flush=True)
            results.append(row)
            shutil.rmtree(root)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args)


def report(results: list[dict], args: argparse.Namespace) -> None:
    print("\n| records | JSON | index build | step 1, first run | step 1, index reused | 5 steps, reused "
          "| peak RSS first / reused | worker peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        if "first" in r:
            a, b = r["first"], r["reused"]
            print(f"| {r['records']:,} | {r['json_mib']:.0f} MiB | {r['index_build_s']:.1f} s | {a['first_step_s']:.1f} s "
                  f"| {b['first_step_s']:.1f} s | {b['total_s']:.1f} s | {a['peak_rss_mib'] / 1024:.2f} / "
                  f"{b['peak_rss_mib'] / 1024:.2f} GiB | {max(a['worker_peak_rss_mib'], b['worker_peak_rss_mib']) / 1024:.2f} GiB |")
    for r in results:
        if "baseline" in r:
            base = r["baseline"]
            print(f"\nbaseline (list + every header, before the index) at {r['records']:,} records: "
                  f"{base['before_step_1_s']:.1f} s before step 1 (load {base['load_s']:.1f}, validate "
                  f"{base['validate_s']:.1f}, lengths {base['lengths_s']:.1f}), peak RSS "
                  f"{base['peak_rss_mib'] / 1024:.2f} GiB")
    trained = [r for r in results if "first" in r]
    if len(trained) >= 2:
        small, large = trained[0], trained[-1]
        peak = lambda r: max(r["first"]["peak_rss_mib"], r["reused"]["peak_rss_mib"])  # noqa: E731
        print(f"\npeak RSS {large['records']:,} / {small['records']:,} records: {peak(large) / peak(small):.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-train":
        child_train(*sys.argv[2:5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-baseline":
        child_baseline(*sys.argv[2:4])
    else:
        main()
