"""PR: IPA transcription (phonemizer output on MLS audio)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="PR", name="phoneme recognition", category="paralinguistic-content",
    sources=[Source("phoneme_recognition", modalities=("ta", "pa"))],
    templates=templates("PR"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("per",),
    max_new_tokens=256,
)
