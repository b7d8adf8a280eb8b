"""A small real-audio corpus for training tests: tones whose pitch gives the label."""

from pathlib import Path

import numpy as np
import pytest
import soundfile

from llaso_core.data.sample import Sample
from llaso_core.data.store import write_samples
from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment


def tone_corpus(root: Path, n: int = 48, seed: int = 0) -> list[Sample]:
    """``n`` SGC samples: a low hum is 'Male.', a high one 'Female.' (ta), written under ``root``."""
    rng = np.random.default_rng(seed)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(n):
        female = i % 2 == 1
        f0 = rng.uniform(190, 260) if female else rng.uniform(85, 130)
        seconds = rng.uniform(0.6, 1.4)
        t = np.arange(int(16000 * seconds)) / 16000
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * 0.2
        path = f"audio/tone_{i}.wav"
        soundfile.write(root / path, wave.astype(np.float32), 16000)
        query = Query("ta", (TextSegment("What is the speaker's gender? Choose from: male, female.", "instruction"),
                             AudioSegment(AudioRef(path), "input")))
        samples.append(Sample(id=f"tone:{i}", task="SGC", source="vctk_gender_classification", query=query,
                              target="Female." if female else "Male."))
    write_samples(root / "train.jsonl", samples)
    return samples


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a test's process group."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def end_rank() -> None:
    """The last line of a spawned rank whose results are written: shut the process group down as
    ``llaso train`` does, then exit without the interpreter's teardown, where gloo's worker threads
    can still abort a finished process (pytorch/pytorch#179291; seen once in a CI rehearsal)."""
    import os
    import sys

    from llaso_core.distributed import shutdown_distributed

    shutdown_distributed()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def join_two_rank_launch(rank: int, port: int) -> None:
    """In a spawned test process: the environment torchrun would give rank ``rank`` of 2 (one thread)."""
    import os

    import torch

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)


@pytest.fixture
def tones(tmp_path):
    root = tmp_path / "data"
    return tone_corpus(root), root
