"""A third-party model kind: ``--model pitch-baseline:165`` answers speaker-gender questions from the
clip's fundamental frequency (below the threshold in Hz: "Male.", else "Female."); any other question
gets "I don't know.". It takes only text instruction + audio input (``ta``), one query at a time, so
``llaso eval`` reports ``at`` and ``pa`` as not evaluated."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from llaso_core import hookimpl
from llaso_core.models import SAMPLE_RATE, Answer, GenerationOptions, Request, SpeechModel
from llaso_core.specs import ModelSpec


def fundamental_hz(samples: np.ndarray, low: float = 60.0, high: float = 400.0) -> float:
    """The autocorrelation peak between ``low`` and ``high`` Hz."""
    x = samples - samples.mean()
    corr = np.correlate(x, x, mode="full")[len(x) - 1:]
    lags = np.arange(int(SAMPLE_RATE / high), int(SAMPLE_RATE / low))
    return SAMPLE_RATE / lags[np.argmax(corr[lags])]


class PitchBaseline(SpeechModel):
    kind = "pitch-baseline"
    modalities = ("ta",)
    batched = False

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        try:
            self.threshold = float(reference)
        except ValueError:
            raise ValueError(f"pitch-baseline:{reference}: give a threshold in Hz, e.g. pitch-baseline:165") from None

    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        answers = []
        for request in requests:
            question = " ".join(s.text for s in request.query.segments if hasattr(s, "text")).lower()
            if "gender" not in question or not request.waveforms:
                answers.append(Answer("I don't know."))
                continue
            f0 = fundamental_hz(request.waveforms[0][: SAMPLE_RATE // 2])
            answers.append(Answer("Male." if f0 < self.threshold else "Female."))
        return answers

    def details(self) -> dict:
        return {"threshold_hz": self.threshold}


def load(reference: str, **options) -> PitchBaseline:
    return PitchBaseline(reference, **options)


@hookimpl
def llaso_register_models(register):
    register(ModelSpec("pitch-baseline", "llaso_pitch_baseline:load", "speaker gender from a pitch threshold",
                       modalities=("ta",), batched=False, reference="THRESHOLD_HZ"))
