"""SCR: which command word was spoken (Speech Commands)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="SCR", name="speech command recognition", category="paralinguistic-content",
    sources=[Source("speechcommand_recognition", modalities=("ta", "pa"))],
    templates=templates("SCR"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("wer", "cer", "judge"),
    max_new_tokens=16,
)
