"""Built-in audio encoders: Whisper and a tiny random-initialised encoder for tests and the CPU."""

from llaso_core import hookimpl
from llaso_core.specs import EncoderSpec

ENCODERS = (
    EncoderSpec("whisper", "llaso_plugins.encoders.whisper:build",
                "Whisper encoder (any size) from a path or hub id; length_mode trim|pad30",
                default_checkpoint="openai/whisper-large-v3"),
    EncoderSpec("tiny", "llaso_plugins.encoders.tiny:build",
                "random-initialised conv + transformer encoder, 25 frames/s (tests, CPU default)"),
)


@hookimpl
def llaso_register_encoders(register):
    for spec in ENCODERS:
        register(spec)
