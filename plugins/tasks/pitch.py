"""PP: MIDI pitch of a note, 0-127 (NSynth)."""

from llaso_core.specs import LabelSet, Source, TaskSpec
from llaso_plugins.tasks._templates import templates

TASK = TaskSpec(
    id="PP", name="pitch prediction", category="paralinguistic-content",
    sources=[Source("NSynth_pitch_recognition", modalities=("ta", "pa"))],
    templates=templates("PP"),
    label_sets=[LabelSet("numeric", value_range=(0, 127))],
    extractor="pitch",
    metrics=("mae",),
    max_new_tokens=16,
)
