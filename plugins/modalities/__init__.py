"""The three LLaSO modality configurations (paper Eq. 1)."""

from __future__ import annotations

import json
from importlib import resources

from llaso_core import hookimpl
from llaso_core.specs import ModalitySpec, Slot

_cues = json.loads(resources.files(__package__).joinpath("pure_audio_cues.json").read_text("utf-8"))

TEXT_AUDIO = ModalitySpec(
    id="ta", name="text instruction + audio input",
    layout=(Slot("instruction", "text"), Slot("input", "audio")),
    description="[X_instruct^t, X_input^a]: a written instruction about an audio clip.")

AUDIO_TEXT = ModalitySpec(
    id="at", name="audio instruction + text input",
    layout=(Slot("instruction", "audio"), Slot("input", "text")),
    description="[X_instruct^a, X_input^t]: a spoken instruction about a written input.")

PURE_AUDIO = ModalitySpec(
    id="pa", name="pure audio",
    layout=(Slot("cue", "text"), Slot("request", "audio")),
    cues=tuple(_cues["cues"]), eval_cues=tuple(_cues["cues"][i] for i in _cues["eval"]),
    description="[X_instruct+input^a]: the audio carries the whole request; the text is a generic cue.")


@hookimpl
def llaso_register_modalities(register):
    for spec in (TEXT_AUDIO, AUDIO_TEXT, PURE_AUDIO):
        register(spec)
