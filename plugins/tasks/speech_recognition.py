"""ASR: transcribe English speech (MLS, GigaSpeech, LibriSpeech, VCTK, LJSpeech)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="ASR", name="automatic speech recognition", category="linguistic",
    sources=[Source("ASR", modalities=("ta", "pa"), description="LLaSO-Eval ASR, 4,566 clips")],
    templates=templates("ASR"),
    label_sets=[LabelSet("open")],
    extractor="text",
    metrics=("wer", "cer"),
    max_new_tokens=256,
)
