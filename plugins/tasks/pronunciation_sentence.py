"""PSSL: sentence accuracy, prosody, fluency and total, 0-10 (speechocean762)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="PSSL", name="pronunciation scoring, sentence level", category="paralinguistic-speaker",
    sources=[Source("pronunciation_scoring_sentence_level", modalities=("ta", "pa"))],
    templates=templates("PSSL"),
    label_sets=[LabelSet("open")],
    extractor="pssl",
    metrics=("pssl_acc", "judge"),
    max_new_tokens=128,
)
