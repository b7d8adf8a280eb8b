"""VC: MIDI velocity of a note (NSynth)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="VC", name="velocity classification", category="paralinguistic-content",
    sources=[Source("velocity_classification", modalities=("ta", "pa"))],
    templates=templates("VC"),
    label_sets=[LabelSet("closed", ["127", "100", "75", "50", "25"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=8,
)
