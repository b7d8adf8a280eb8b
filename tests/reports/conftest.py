"""Fixture results files (see fixtures.py) and one report rendered from them per session."""

from pathlib import Path

import pytest

from llaso_core.reports import report_from_files

from . import fixtures


@pytest.fixture(scope="session")
def results_files(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("results")
    return [fixtures.write(make(), root / name / "results.json")
            for name, make in (("base", fixtures.llaso_base), ("qwen", fixtures.qwen2_audio),
                               ("toy", fixtures.toy_baseline_strict))]


@pytest.fixture(scope="session")
def rendered(results_files, tmp_path_factory):
    """A report over the three fixture systems (two protocols)."""
    out = tmp_path_factory.mktemp("report3")
    return report_from_files(results_files, out, title="Fixture comparison")


@pytest.fixture(scope="session")
def rendered_single(results_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("report1")
    return report_from_files(results_files[:1], out)
