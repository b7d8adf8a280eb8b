"""Shared fixtures: the released-predictions conformance fixture, located once."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def reference_dir() -> Path | None:
    """``$LLASO_REFERENCE_DIR`` or ``../shared/reference/llaso-release``; None when absent."""
    path = Path(os.environ.get("LLASO_REFERENCE_DIR", REPO.parent / "shared" / "reference" / "llaso-release"))
    return path if (path / "expected.csv").exists() else None


@pytest.fixture(scope="session")
def release_dir() -> Path:
    path = reference_dir()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the LLaSO release fixture is missing; set LLASO_REFERENCE_DIR")
        pytest.skip("LLaSO release fixture not found (set LLASO_REFERENCE_DIR)")
    return path
