"""Shared fixtures: the released-predictions conformance fixture (located by :mod:`tests.reference`)."""

from pathlib import Path

import pytest

from tests.reference import reference_dir, require_reference


@pytest.fixture(scope="session")
def release_dir() -> Path:
    require_reference()
    return reference_dir()
