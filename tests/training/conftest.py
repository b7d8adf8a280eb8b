"""Helpers of the training tests: the tone corpus (``llaso_core.testing``), ports, two-rank launches."""

import pytest

from llaso_core.testing import tone_corpus  # noqa: F401  (the corpus the training tests share)


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
