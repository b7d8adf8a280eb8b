"""Tiny corpora in each input layout, written with numpy + soundfile: for tests and for trying a
build spec without downloading anything. Clips are short tones/noise (content is irrelevant to
the builder); each writer returns the root it wrote.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np


def tone(seconds: float = 0.25, rate: int = 16000, freq: float = 220.0, channels: int = 1,
         seed: int = 0) -> np.ndarray:
    """A tone with a little noise: (n,) or (n, channels) float32."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.01, t.shape)
    mono = (0.2 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)
    return mono if channels == 1 else np.stack([mono] * channels, axis=1)


def write_audio(path: Path, seconds: float = 0.25, rate: int = 16000, channels: int = 1, seed: int = 0,
                freq: float = 220.0) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, rate, freq, channels, seed), rate)
    return path


def write_corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not audio at all" * 8)
    return path


LIBRI_TEXTS = ("IN A VERY LITTLE WHILE", "THE QUICK BROWN FOX", "HELLO THERE MY FRIEND", "IT WAS A BRIGHT COLD DAY")


def write_librispeech(root: Path, speakers: Iterable[str] = ("19", "26", "32", "40"), per_speaker: int = 2,
                      rate: int = 16000) -> Path:
    """``<speaker>/<chapter>/<speaker>-<chapter>.trans.txt`` + ``<utt>.flac`` (first speaker's
    first clip is stereo 44.1 kHz, to exercise downmixing and resampling)."""
    for s_index, speaker in enumerate(speakers):
        chapter = str(100 + s_index)
        folder = root / speaker / chapter
        lines = []
        for u in range(per_speaker):
            utt = f"{speaker}-{chapter}-{u:04d}"
            stereo = s_index == 0 and u == 0
            write_audio(folder / f"{utt}.flac", 0.3, 44100 if stereo else rate, 2 if stereo else 1,
                        seed=s_index * 10 + u)
            lines.append(f"{utt} {LIBRI_TEXTS[(s_index + u) % len(LIBRI_TEXTS)]}")
        (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def write_nsynth(root: Path, notes: Iterable[tuple[str, str, str, int, int]] | None = None) -> Path:
    """``examples.json`` + ``audio/<note_str>.wav``; notes are (family, source, index, pitch, velocity)."""
    notes = list(notes or [("synth_lead", "synthetic", "000", 60, 127), ("synth_lead", "synthetic", "000", 62, 100),
                           ("bass", "electronic", "001", 40, 75), ("bass", "electronic", "001", 41, 90),
                           ("keyboard", "acoustic", "002", 72, 25), ("keyboard", "acoustic", "002", 74, 50)])
    examples: dict[str, Any] = {}
    for i, (family, source, number, pitch, velocity) in enumerate(notes):
        instrument = f"{family}_{source}_{number}"
        note = f"{instrument}-{pitch:03d}-{velocity:03d}"
        examples[note] = {"note_str": note, "instrument_str": instrument, "instrument_family_str": family,
                          "instrument_source_str": source, "pitch": pitch, "velocity": velocity,
                          "sample_rate": 16000, "qualities_str": []}
        write_audio(root / "audio" / f"{note}.wav", 0.25, freq=110.0 * (1 + i), seed=i)
    (root / "examples.json").write_text(json.dumps(examples, indent=1), encoding="utf-8")
    return root


def write_vocalsound(root: Path, files: Iterable[str] | None = None, ages: dict[str, int] | None = None) -> Path:
    """``<f|m><id>_<session>_<sound>.wav`` files, and ``meta.csv`` (speaker, age) when ``ages``."""
    files = list(files or ["f0001_0_cough.wav", "f0001_0_laughter.wav", "m0002_0_throatclearing.wav",
                           "m0002_1_sneeze.wav", "f0003_0_sigh.wav", "m0004_0_sniff.wav", "m0004_0_cough.wav",
                           "f0005_0_laughter.wav"])
    for i, name in enumerate(files):
        write_audio(root / "audio_16k" / name, 0.2, seed=100 + i)
    if ages:
        with open(root / "meta.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["Speaker", "Gender", "Age"])
            for speaker, age in ages.items():
                writer.writerow([speaker, "?", age])
    return root


def write_cremad(root: Path, files: Iterable[str] | None = None) -> Path:
    files = list(files or ["1001_DFA_ANG_XX.wav", "1001_IEO_HAP_HI.wav", "1002_DFA_SAD_LO.wav",
                           "1002_TIE_NEU_XX.wav", "1003_DFA_FEA_MD.wav", "1003_IEO_DIS_HI.wav",
                           "1004_DFA_ANG_LO.wav", "1004_ITS_HAP_MD.wav"])
    for i, name in enumerate(files):
        write_audio(root / "AudioWAV" / name, 0.25, seed=200 + i)
    return root


QA_RECORDS: list[dict[str, Any]] = [
    {"instruction": "Translate the sentence into French.", "input": "The cat sleeps.", "output": "Le chat dort."},
    {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well, sleep, exercise."},
    {"instruction": "Summarise the text.", "input": "Rain fell all day and the river rose.", "output": "It rained."},
    {"instruction": "把这句话翻译成英文。", "input": "你好，世界", "output": "Hello, world."},
    {"question": "What is the capital of France?", "answer": "Paris."},
    {"instruction": "Name a colour.", "output": ""},
]


def write_text_qa(path: Path, records: list[dict[str, Any]] | None = None, jsonl: bool = False) -> Path:
    records = QA_RECORDS if records is None else records
    path.parent.mkdir(parents=True, exist_ok=True)
    if jsonl:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
