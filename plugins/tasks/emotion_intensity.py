"""EIE: emotion intensity (CREMA-D) and sentiment (MELD)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="EIE", name="emotion intensity estimation", category="paralinguistic-speaker",
    sources=[
        Source("CREMAD_EIE_classification", modalities=("ta", "pa"), label_set="cremad"),
        Source("meld_EIE_classification", modalities=("ta", "pa"), label_set="meld"),
    ],
    templates=templates("EIE"),
    label_sets=[
        LabelSet("closed", name="cremad", labels=["unspecified", "low", "medium", "high"]),
        LabelSet("closed", name="meld", labels=["positive", "neutral", "negative"]),
    ],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
