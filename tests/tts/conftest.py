"""Fixtures of the TTS tests (espeak-ng from the espeakng-loader wheel)."""

import pytest

pytest.importorskip("espeakng_loader")


@pytest.fixture(scope="session")
def engine():
    from llaso_core.tts.espeak import EspeakEngine

    return EspeakEngine()
