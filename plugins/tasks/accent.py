"""AC: accent; each corpus has its own label set."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="AC", name="accent classification", category="paralinguistic-speaker",
    sources=[
        Source("vctk_accent_classification", modalities=("ta", "pa"), label_set="vctk"),
        Source("accentdb_AI_classification", modalities=("ta", "pa"), label_set="accentdb"),
        Source("common-voice_accent_classification", modalities=("ta", "pa"), label_set="common-voice"),
    ],
    templates=templates("AC"),
    label_sets=[
        LabelSet("closed", name="vctk", labels=[
            "american", "australian", "british", "canadian", "indian", "irish", "new zealand",
            "northern irish", "scottish", "south africa"]),
        LabelSet("closed", name="accentdb", labels=[
            "american", "australian", "bangla", "british", "indian", "malayalam", "odiya", "telugu",
            "welsh"]),
        LabelSet("closed", name="common-voice", labels=[
            "australian english", "canadian english", "england english", "filipino", "german english",
            "hong kong english", "indian english", "irish english", "malaysian english",
            "new zealand english", "northern irish", "scottish english", "singaporean english",
            "south african accent", "united states english", "welsh english"]),
    ],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
