"""AQA: answer a question or request that arrives as speech, as text about speech, or both."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

_PURE_AUDIO = ("1M_GPT4_end", "3.5M_GPT3.5_end", "alpaca_gpt4_end", "code_alpaca_end")
_TEXT_SOURCES = ("alpacaDan", "dolly", "orca", "tigerbot_alpaca", "tigerbot_multichat", "unnatural")

TASK = TaskSpec(
    id="AQA", name="audio question answering", category="semantic",
    sources=[
        *(Source(stem, modalities=("pa",)) for stem in _PURE_AUDIO),
        *(Source(f"{s}_input_1", modalities=("ta",)) for s in _TEXT_SOURCES),
        *(Source(f"{s}_instruction_0", modalities=("at",)) for s in _TEXT_SOURCES),
    ],
    templates=templates("AQA"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("judge",),
    max_new_tokens=512,
)
