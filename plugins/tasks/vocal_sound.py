"""VSC: non-speech vocal sounds (VocalSound)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="VSC", name="vocal sound classification", category="paralinguistic-content",
    sources=[Source("vocalsound_vocal_classification", modalities=("ta", "pa"))],
    templates=templates("VSC"),
    label_sets=[LabelSet("closed", ["laughter", "sigh", "cough", "throat clearing", "sneeze", "sniff"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
