"""Built-in metrics, extractors and judges. The code lives in ``llaso_core.metrics`` and
``llaso_core.judge``; this plugin registers them by lazy reference (the metrics as declared once
in ``llaso_core.metrics.BUILTIN_METRICS``)."""

from llaso_core import hookimpl
from llaso_core.metrics import BUILTIN_METRICS
from llaso_core.specs import ExtractorSpec, JudgeSpec

_X = "llaso_core.extractors"

EXTRACTORS = (
    ExtractorSpec("text", f"{_X}:text", "the answer text as generated, whitespace trimmed"),
    ExtractorSpec("label", f"{_X}:label", "the one closed-set label an answer names"),
    ExtractorSpec("pitch", f"{_X}:number", "a MIDI pitch number (the MAE metric's pitch parser)"),
    ExtractorSpec("age", f"{_X}:number", "an age in years (the MAE metric's age parser)"),
    ExtractorSpec("pssl", f"{_X}:pronunciation_scores", "accuracy/prosodic/fluency scores"),
)

JUDGES = (
    JudgeSpec("openai", "llaso_core.judge:Judge",
              "any OpenAI-compatible chat API (OpenAI, vLLM, llama.cpp server, ...)"),
)


@hookimpl
def llaso_register_metrics(register):
    for spec in BUILTIN_METRICS:
        register(spec)


@hookimpl
def llaso_register_extractors(register):
    for spec in EXTRACTORS:
        register(spec)


@hookimpl
def llaso_register_judges(register):
    for spec in JUDGES:
        register(spec)
