"""ER: emotion recognition (CREMA-D, MELD)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="ER", name="emotion recognition", category="paralinguistic-speaker",
    sources=[
        Source("CREMAD_ER_classification", modalities=("ta", "pa"), label_set="cremad"),
        Source("meld_ER_classification", modalities=("ta", "pa"), label_set="meld"),
    ],
    templates=templates("ER"),
    label_sets=[
        LabelSet("closed", name="cremad", labels=[
            "anger", "disgust", "fear", "happiness", "neutrality", "sadness"]),
        LabelSet("closed", name="meld", labels=[
            "anger", "disgust", "fear", "joy", "neutrality", "sadness", "surprise"]),
    ],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
