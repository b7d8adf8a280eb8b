"""SV: which MELD (Friends) character is speaking."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="SV", name="speaker verification", category="paralinguistic-speaker",
    sources=[Source("meld_SV_classification", modalities=("ta", "pa"))],
    templates=templates("SV"),
    label_sets=[LabelSet("closed", ["joey", "ross", "rachel", "phoebe", "monica", "chandler"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
