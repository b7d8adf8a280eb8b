"""EE: entities as ``[type : value]`` (SLURP)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="EE", name="entity extraction", category="paralinguistic-content",
    sources=[Source("slurp_Entity_Extraction", modalities=("ta", "pa"))],
    templates=templates("EE"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("judge",),
    max_new_tokens=128,
)
