"""PSWL: per-word pronunciation accuracy, stress and total (speechocean762)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="PSWL", name="pronunciation scoring, word level", category="paralinguistic-speaker",
    sources=[Source("pronunciation_scoring_word_level", modalities=("ta", "pa"))],
    templates=templates("PSWL"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("judge",),
    max_new_tokens=256,
)
