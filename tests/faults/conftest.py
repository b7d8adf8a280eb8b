"""Fixtures of the fault catalogue: a tiny tone corpus and an untrained checkpoint, built once."""

from __future__ import annotations


import pytest
import torch

from llaso_core.loader import get_host
from llaso_core.model.lslm import LSLMConfig, build
from llaso_core.training.run import tokenizer_texts
from tests.faults.catalogue import Fixtures
from tests.training.conftest import tone_corpus


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory) -> Fixtures:
    root = tmp_path_factory.mktemp("faults")
    samples = tone_corpus(root / "corpus", n=6)
    torch.manual_seed(0)
    model = build(LSLMConfig(), get_host(), texts=tokenizer_texts(samples, get_host()))
    model.save_pretrained(root / "ckpt")
    return Fixtures(corpus=root / "corpus", checkpoint=root / "ckpt")
