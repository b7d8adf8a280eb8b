"""ISC: how a note was produced: acoustic, electronic or synthetic (NSynth)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="ISC", name="instrument source classification", category="paralinguistic-content",
    sources=[Source("NSynth_music_source_classification", modalities=("ta", "pa"))],
    templates=templates("ISC"),
    label_sets=[LabelSet("closed", ["acoustic", "electronic", "synthetic"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
