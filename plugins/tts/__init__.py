"""Built-in speech synthesis engines (paper Appendix H). The code lives in ``llaso_core.tts``;
this plugin only declares it, by lazy reference (nothing is loaded until an engine is built)."""

from llaso_core import hookimpl
from llaso_core.specs import TTSSpec

ENGINES = (
    TTSSpec("espeak-ng", "llaso_core.tts.espeak:EspeakEngine",
            "espeak-ng through the espeakng-loader wheel's shared library (ctypes); 22.05 kHz, "
            "curated English voices with gender and accent, rate 80-450 wpm, pitch 0-99"),
)


@hookimpl
def llaso_register_tts(register):
    for spec in ENGINES:
        register(spec)
