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
    MetricSpec("judge", f"{_M}.judge_score:judge_mean", "mean LLM-judge score, 1-5", unit="score"),
)

EXTRACTORS = (
    ExtractorSpec("text", f"{_M}.extract:strip_text", "the answer text as generated, whitespace trimmed"),
    ExtractorSpec("label", f"{_M}.extract:strict_label", "the one closed-set label an answer names"),
    ExtractorSpec("pitch", f"{_M}.extract:parse_number_strict", "a MIDI pitch number"),
    ExtractorSpec("age", f"{_M}.extract:parse_number_strict", "an age in years"),
    ExtractorSpec("pssl", f"{_M}.extract:parse_pssl", "accuracy/prosodic/fluency scores"),
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
