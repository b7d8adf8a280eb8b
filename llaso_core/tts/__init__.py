"""Speech synthesis for building ``at``/``pa`` samples from text (paper Appendix H).

:mod:`llaso_core.tts.engine` defines the engine interface, :mod:`llaso_core.tts.espeak` the
espeak-ng engine, :mod:`llaso_core.tts.cache` a disk cache of synthesised WAV files. Engines
are registered as ``tts`` plugins (``host.tts``); the built-in one is ``espeak-ng``.
"""

from llaso_core.tts.engine import Synthesis, TTSEngine, UnknownVoiceError, Voice

__all__ = ["Synthesis", "TTSEngine", "UnknownVoiceError", "Voice"]
