"""Raw-corpus adapters of the built-in tasks (``llaso data build``): one module per corpus layout,
registered here lazily (nothing is imported until a build uses the adapter)."""

from llaso_core import hookimpl
from llaso_core.specs import AdapterSpec

ADAPTERS = (
    AdapterSpec("llaso-release", "llaso_plugins.corpora.release:iter_items", tasks=None,
                options=("resplit", "standardize_audio", "exclude"),
                description="LLaSO release JSON folders (load_release): samples passed through"),
    AdapterSpec("librispeech", "llaso_plugins.corpora.librispeech:iter_items", tasks=("ASR", "PR"),
                sources={"ASR": "ASR", "PR": "phoneme_recognition"}, options=("audio_ext",),
                description="LibriSpeech-style <speaker>/<chapter>/*.trans.txt + <utt>.flac -> ASR, PR"),
    AdapterSpec("nsynth", "llaso_plugins.corpora.nsynth:iter_items", tasks=("IC", "ISC", "PP", "VC"),
                sources={"IC": "NSynth_instrument_classification", "ISC": "NSynth_music_source_classification",
                         "PP": "NSynth_pitch_recognition", "VC": "velocity_classification"},
                options=("examples", "audio_dir"),
                description="NSynth examples.json + audio/<note>.wav -> IC, ISC, PP, VC"),
    AdapterSpec("vocalsound", "llaso_plugins.corpora.vocalsound:iter_items", tasks=("VSC", "SGC", "AR"),
                sources={"VSC": "vocalsound_vocal_classification", "SGC": "vocalsound_gender_classification",
                         "AR": "vocalsound_age_prediction"},
                options=("meta", "meta_speaker_column", "meta_age_column"),
                description="VocalSound f0001_0_cough.wav -> VSC, SGC, AR (fine, with a meta CSV)"),
    AdapterSpec("crema-d", "llaso_plugins.corpora.cremad:iter_items", tasks=("ER", "EIE"),
                sources={"ER": "CREMAD_ER_classification", "EIE": "CREMAD_EIE_classification"},
                description="CREMA-D 1001_DFA_ANG_XX.wav -> ER, EIE"),
    AdapterSpec("text-qa", "llaso_plugins.corpora.textqa:iter_items", tasks=("AQA",), options=("name", "max_chars"),
                description="Alpaca/Dolly/OpenOrca-style QA JSON -> AQA at/ta/pa by TTS"),
)


@hookimpl
def llaso_register_adapters(register):
    for adapter in ADAPTERS:
        register(adapter)
