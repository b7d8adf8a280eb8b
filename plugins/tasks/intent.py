"""IP: the user's intent (SLURP scenario + action)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="IP", name="intent prediction", category="paralinguistic-content",
    sources=[Source("slurp_Intent_Prediction", modalities=("ta", "pa"))],
    templates=templates("IP"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("judge",),
    max_new_tokens=32,
)
