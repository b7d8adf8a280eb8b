"""SGC: speaker gender."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="SGC", name="speaker gender classification", category="paralinguistic-speaker",
    sources=[Source(f"{corpus}_gender_classification", modalities=("ta", "pa"))
             for corpus in ("voxceleb", "vctk", "vocalsound", "common-voice")],
    templates=templates("SGC"),
    label_sets=[LabelSet("closed", ["male", "female"])],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
