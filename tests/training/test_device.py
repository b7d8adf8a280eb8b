"""One device per rank: the device a process of a multi-GPU launch picks, from its environment."""

import pytest
import torch

from llaso_core import distributed
from llaso_core.distributed import choose_device


@pytest.mark.parametrize("environ, gpus, expected", [
    ({}, 0, "cpu"),
    ({"LOCAL_RANK": "3", "RANK": "3", "WORLD_SIZE": "4"}, 0, "cpu"),
    ({}, 8, "cuda:0"),
    ({"LOCAL_RANK": "3", "RANK": "3", "WORLD_SIZE": "8"}, 8, "cuda:3"),
    ({"LOCAL_RANK": "1", "RANK": "9", "WORLD_SIZE": "16"}, 8, "cuda:1"),  # node 2: the local rank, not the global
    ({"LOCAL_RANK": "1", "LLASO_SHARE_GPU": "1"}, 1, "cuda:0"),
    ({"LOCAL_RANK": "3", "LLASO_SHARE_GPU": "1"}, 2, "cuda:1"),
])
def test_device_follows_the_local_rank(environ, gpus, expected):
    assert choose_device(environ, gpus) == torch.device(expected)


def test_a_rank_without_a_gpu_of_its_own_is_named():
    with pytest.raises(RuntimeError, match=r"LOCAL_RANK 2 but only 2 GPU\(s\).*LLASO_SHARE_GPU=1"):
        choose_device({"LOCAL_RANK": "2"}, 2)


def test_local_device_makes_the_rank_s_gpu_current(monkeypatch):
    """What every entry (train, eval, features cache) calls: with 4 GPUs and LOCAL_RANK=2 the
    process selects cuda:2 before any CUDA work, so bare CUDA calls do not land on GPU 0."""
    selected = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr(torch.cuda, "set_device", selected.append)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert distributed.local_device() == torch.device("cuda", 2)
    assert selected == [torch.device("cuda", 2)]


def test_engines_and_generation_use_the_local_device(monkeypatch):
    """The entries ask ``local_device`` (here the CPU: no GPU in CI) instead of a bare "cuda"."""
    from llaso_core.evaluation.generate import Generator
    from llaso_core.training.engine import TorchEngine

    calls = []
    monkeypatch.setattr(distributed, "choose_device", lambda env, n: calls.append(env["LOCAL_RANK"]) or
                        torch.device("cpu"))
    monkeypatch.setenv("LOCAL_RANK", "1")
    model = torch.nn.Linear(2, 2)
    TorchEngine(model, model.parameters(), lr=1e-3, weight_decay=0.0, grad_clip=1.0, total_steps=1,
                warmup_ratio=0.0, precision="fp32")
    assert calls == ["1"]
    from llaso_core.model.lslm import LSLMConfig, build

    generator = Generator(build(LSLMConfig(), texts=["a tiny vocabulary"] * 4))
    assert calls == ["1", "1"] and generator.device == torch.device("cpu")
