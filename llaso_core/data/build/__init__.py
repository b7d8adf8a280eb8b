"""Building corpora the LLaSO way (paper Figure 2): raw corpora in (read by the adapters plugins
register, ``llaso_register_adapters``; built in: LibriSpeech, NSynth, VocalSound, CREMA-D, text QA,
LLaSO release folders), standardised 16 kHz audio, templated instructions in the ta / at / pa
modalities, a group-disjoint train/eval split, and a manifest out.

    from llaso_core.data.build import BuildSpec, build_corpus
    manifest = build_corpus(BuildSpec.from_file("spec.toml"), "corpus/")

See :mod:`.builder` for the stages, :mod:`.spec` for the spec file, :mod:`.adapter` for what an
adapter is given and :mod:`.items` for what it yields.
"""

from .adapter import AdapterContext
from .builder import build_corpus, get_adapter
from .items import BuildError, Note, Prompt, RawItem, Skipped, Target
from .spec import AudioOptions, BuildSpec, InputSpec, TTSOptions

__all__ = ["AdapterContext", "AudioOptions", "BuildError", "BuildSpec", "InputSpec",
           "Note", "Prompt", "RawItem", "Skipped", "TTSOptions", "Target", "build_corpus", "get_adapter"]
