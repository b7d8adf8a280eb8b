"""Model plugins: anything that answers typed speech-language queries with text (``--model``)."""

from llaso_core.models.base import SAMPLE_RATE, Answer, GenerationOptions, Request, SpeechModel
from llaso_core.models.resolve import ModelRef, ModelSpecError, describe, load_model, parse_model_spec

__all__ = ["SAMPLE_RATE", "Answer", "GenerationOptions", "ModelRef", "ModelSpecError", "Request", "SpeechModel",
           "describe", "load_model", "parse_model_spec"]
