"""SSD: is the speech real or synthesised?"""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="SSD", name="synthetic speech detection", category="paralinguistic-speaker",
    sources=[Source("Synthetic_Audio_Classification", modalities=("ta", "pa"))],
    templates=templates("SSD"),
    label_sets=[LabelSet("closed", ["real", "fake"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
