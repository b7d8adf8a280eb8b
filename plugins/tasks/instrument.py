"""IC: instrument family of a musical note (NSynth)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="IC", name="instrument classification", category="paralinguistic-content",
    sources=[Source("NSynth_instrument_classification", modalities=("ta", "pa"))],
    templates=templates("IC"),
    label_sets=[LabelSet("closed", [
        "bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
        "synth lead", "vocal"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
