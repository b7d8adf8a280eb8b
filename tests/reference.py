"""Where the tests find the released LLaSO predictions: ``$LLASO_REFERENCE_DIR``, else
``../shared/reference/llaso-release`` beside the repository. Missing files skip a test, except under
``CI=true`` where they fail it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def reference_dir() -> Path:
    """The configured release folder (it may not exist)."""
    return Path(os.environ.get("LLASO_REFERENCE_DIR", REPO.parent / "shared" / "reference" / "llaso-release"))


def require_reference(relative: str = "expected.csv") -> Path:
    """``reference_dir() / relative``; skips the test (fails it under CI) when it is missing."""
    path = reference_dir() / relative
    if not path.exists():
        message = f"LLaSO release fixture missing: {path} (set LLASO_REFERENCE_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
