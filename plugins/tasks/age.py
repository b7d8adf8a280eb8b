"""AR: speaker age at three granularities (decade, five-year range, years)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="AR", name="age recognition", category="paralinguistic-speaker",
    sources=[
        Source("common-voice_age_classification", modalities=("ta", "pa"), label_set="coarse"),
        Source("vctk_age_classification", modalities=("ta", "pa"), label_set="medium"),
        Source("vocalsound_age_prediction", modalities=("ta", "pa"), label_set="fine",
               metrics=("mae",), extractor="age"),
    ],
    templates=templates("AR"),
    label_sets=[
        LabelSet("closed", name="coarse", labels=[  # "fourties" is the release's spelling
            "teens", "twenties", "thirties", "fourties", "fifties", "sixties", "seventies",
            "eighties", "nineties"]),
        LabelSet("closed", name="medium", labels=["15-19", "20-24", "25-29", "30+"]),
        LabelSet("numeric", name="fine", value_range=(18, 80)),
    ],
    extractor="label",
    metrics=("acc", "abstention"),
    max_new_tokens=16,
)
