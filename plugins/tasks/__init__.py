"""The 20 LLaSO tasks; one declaration per module (paper Table 1)."""

from llaso_core import hookimpl
from llaso_plugins.tasks import (
    accent, age, audio_qa, emotion, emotion_intensity, entities, instrument, instrument_source,
    intent, phoneme_recognition, pitch, pronunciation_sentence, pronunciation_word, speaker_gender,
    speaker_identity, speech_commands, speech_recognition, synthetic_speech, velocity, vocal_sound,
)

TASKS = tuple(module.TASK for module in (
    speech_recognition, audio_qa, speaker_gender, accent, age, emotion_intensity, emotion,
    synthetic_speech, speaker_identity, pronunciation_word, pronunciation_sentence,
    phoneme_recognition, speech_commands, intent, entities, vocal_sound, instrument,
    instrument_source, pitch, velocity))


@hookimpl
def llaso_register_tasks(register):
    for task in TASKS:
        register(task)
