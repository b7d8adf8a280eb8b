"""Fixtures for judge tests: a live fake OpenAI server and a judge factory pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llaso_core.judge import Judge

from .server import FakeJudgeServer


@pytest.fixture
def server() -> Iterator[FakeJudgeServer]:
    with FakeJudgeServer() as srv:
        yield srv


@pytest.fixture
def make_judge(server: FakeJudgeServer, tmp_path: Path) -> Iterator[Callable[..., Judge]]:
    """Build judges on the fake server and a shared cache file; all are closed after the test."""
    judges: list[Judge] = []

    def make(**kwargs: Any) -> Judge:
        options: dict[str, Any] = {"model": "test-judge", "base_url": server.base_url, "api_key": "test",
                                   "cache": tmp_path / "judge.sqlite", "protocol": "paper",
                                   "retry_base_delay": 0.001, "retry_max_delay": 0.01, "timeout": 10.0}
        options.update(kwargs)
        judge = Judge(**options)
        judges.append(judge)
        return judge

    yield make
    for judge in judges:
        judge.close()
