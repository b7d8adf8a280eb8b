"""Built-in metrics, extractors and judges. The code lives in ``llaso_core.metrics`` and
``llaso_core.judge``; this plugin only declares them, by lazy reference."""

from llaso_core import hookimpl
from llaso_core.specs import ExtractorSpec, JudgeSpec, MetricSpec

_M = "llaso_core.metrics"

METRICS = (
    MetricSpec("wer", f"{_M}.error_rate:wer", "word error rate, corpus level (jiwer)", higher_is_better=False),
    MetricSpec("cer", f"{_M}.error_rate:cer", "character error rate, corpus level (jiwer)",
               higher_is_better=False),
    MetricSpec("per", f"{_M}.phoneme:per", "phoneme error rate", higher_is_better=False),
    MetricSpec("acc", f"{_M}.classification:accuracy", "closed-set accuracy"),
    MetricSpec("abstention", f"{_M}.classification:abstention",
               "share of closed-set answers naming no label or several", higher_is_better=False),
    MetricSpec("mae", f"{_M}.numeric:mae", "mean absolute error of a numeric answer",
               higher_is_better=False, unit="count"),
    MetricSpec("pssl_acc", f"{_M}.pronunciation:pssl_accuracy",
               "exact-match accuracy of the accuracy/prosodic/fluency scores"),
    MetricSpec("judge", f"{_M}.judge_score:judge", "mean LLM-judge score, 1-5", unit="score"),
)

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
    for spec in METRICS:
        register(spec)


@hookimpl
def llaso_register_extractors(register):
    for spec in EXTRACTORS:
        register(spec)


@hookimpl
def llaso_register_judges(register):
    for spec in JUDGES:
        register(spec)
