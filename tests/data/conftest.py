"""Fixtures for the data tests: a small LLaSO-layout release root generated on the fly.

Every registered source stem gets one file in the folder of its first modality (``text_audio/``,
``audio_text/``, ``pure_audio/``), alternately ``_train`` and ``_test``, with 2-3 records whose
``voice`` paths use Windows separators and point at tiny real WAV files. A few ta+pa sources also
get a ``pure_audio/`` copy (one with an unregistered cue, one with a bare ``<audio>``), plus an
unknown stem and a ``merged/`` file.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
import soundfile as sf

from llaso_core.loader import get_host

FOLDER = {"ta": "text_audio", "at": "audio_text", "pa": "pure_audio"}
SPLIT_SUFFIX = {"train": "train", "eval": "test"}


@attrs.define
class ExpectedFile:
    rel: str  # path relative to the root
    stem: str
    task: str
    modality: str
    split: str
    voices: list[str]  # as written (Windows separators)
    targets: list[str]
    records: list[dict[str, Any]]


def release_wav(path: Path, seconds: float = 0.05, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


def release_turn(modality: str, text: str) -> str:
    return {"ta": f"{text}<audio>", "at": f"<audio>{text}", "pa": f"{text}<audio>"}[modality]


def build_release(root: Path, host: Any) -> list[ExpectedFile]:
    cue = host.modalities.get("pa").cues[0]
    expected: list[ExpectedFile] = []
    extras = [{"speaker_id": "p225", "metadata": {"age": 23, "gender": "F"}},
              {"clip_id": "c-17", "meta-data": {"emo": "joy", "speaker": "Ross"}},
              {"id": "q-3", "index": 4}]

    def add(folder: str, stem: str, split: str, task: str, modality: str, texts: list[str],
            human_texts: list[str] | None = None, name: str | None = None) -> None:
        rel = f"{folder}/{name or f'{stem}_{SPLIT_SUFFIX[split]}'}.json"
        records, voices, targets = [], [], []
        for i, text in enumerate(texts):
            voice = f"{stem}\\clips\\{folder}_{i}.wav"
            release_wav(root / stem / "clips" / f"{folder}_{i}.wav")
            target = f"answer {i} for {stem}"
            records.append({**extras[i % len(extras)], "voice": [voice], "conversations": [
                {"from": "human", "value": (human_texts or [release_turn(modality, t) for t in texts])[i]},
                {"from": "gpt", "value": target}]})
            voices.append(voice)
            targets.append(target)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(records, indent=1), encoding="utf-8")
        expected.append(ExpectedFile(rel, stem, task, modality, split, voices, targets, records))

    for n, (stem, (task, source)) in enumerate(sorted(host.sources.items())):
        modality = source.modalities[0]
        split = "train" if n % 2 == 0 else "eval"
        texts = [cue] * 3 if modality == "pa" else [f"Question {i} about {stem}?" for i in range(2 + n % 2)]
        add(FOLDER[modality], stem, split, task.id, modality, texts)
    # ta+pa sources with pure-audio copies: the folder decides, even for an unknown cue or no cue
    add("pure_audio", "vctk_gender_classification", "train", "SGC", "pa", ["Some unregistered cue."] * 2)
    add("pure_audio", "meld_ER_classification", "train", "ER", "pa", ["", ""], human_texts=["<audio>", "<audio>"])
    # the stage-named ASR files of LLaSO-Align / LLaSO-Instruct
    add("text_audio", "ASR", "train", "ASR", "ta", ["Transcribe this.", "Write down what is said."],
        name="ASR_stage1_train")
    (root / "text_audio" / "not_a_task_train.json").write_text(json.dumps([]), encoding="utf-8")
    (root / "merged").mkdir()
    (root / "merged" / "LLaSO-Instruct.json").write_text(json.dumps([]), encoding="utf-8")
    return expected


@pytest.fixture(scope="session")
def release_host():
    return get_host()


@pytest.fixture(scope="session")
def release_layout(tmp_path_factory, release_host) -> tuple[Path, list[ExpectedFile]]:
    """(root, what each file holds) of a generated release root covering every registered stem."""
    root = tmp_path_factory.mktemp("llaso-release")
    return root, build_release(root, release_host)


@pytest.fixture
def release_cache(tmp_path, monkeypatch) -> Path:
    """A private index cache folder (also set as ``$LLASO_CACHE_DIR``)."""
    monkeypatch.setenv("LLASO_CACHE_DIR", str(tmp_path / "llaso-cache"))
    return tmp_path / "llaso-cache" / "index"


def release_asr_records(n: int, *, start: int = 0):
    """``n`` LLaSO-Align-like ASR records (text instruction + audio input), generated lazily."""
    for i in range(start, start + n):
        yield {"index": i, "speaker_id": f"s{i % 97}", "voice": [f"mls\\audio\\{i % 50}\\{i}.flac"],
               "conversations": [{"from": "human", "value": f"Please transcribe the following audio {i % 18}.<audio>"},
                                 {"from": "gpt", "value": f"transcript number {i} with some words"}]}


def release_write_list(path: Path, records) -> Path:
    """Write records as one JSON list, streamed (never the whole list in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for i, record in enumerate(records):
            f.write(",\n" if i else "\n")
            f.write(json.dumps(record, ensure_ascii=False))
        f.write("\n]\n")
    return path


@pytest.fixture(scope="session")
def release_helpers():
    """Helper functions for the tests (conftest modules are not importable by name)."""
    return types.SimpleNamespace(wav=release_wav, asr_records=release_asr_records,
                                 write_list=release_write_list, build=build_release, turn=release_turn)
