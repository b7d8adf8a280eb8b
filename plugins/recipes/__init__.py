"""Mini-corpus recipes of the 20 LLaSO tasks (``llaso data synth``). The generators live in
:mod:`.speech`, :mod:`.speaker`, :mod:`.emotion` and :mod:`.sounds` (their text pools in
:mod:`.content`, the learner readings in :mod:`.pronunciation`); this module only registers them
(lazily). Labels are exact by construction; where the property is only imitated the task
is a proxy:

====  ============================================================================  =======
task  how the input is made (target)                                                proxy?
====  ============================================================================  =======
ASR   a grammar sentence spoken by an English espeak voice (the sentence)           no
PR    as ASR (phonemizer en-us IPA of the sentence, as the release made it)         no
AQA   a question with an exact answer: arithmetic, colours, opposites, capitals,    no
      days/months, counting, legs, animal sounds (the answer); pa/ta/at
SGC   sentence by a male or female espeak variant, f0-checked (male, female)        yes
AC    sentence by an accent's language voice: en-us/nyc american, en-gb/rp/lancs/   yes
      west-midlands british, en-gb-scotland scottish; English read by de, cy, af
      voices for german / welsh / south african (only labels realisable per set)
AR    age → slower rate, lower pitch, tremolo after 60, monotone (decade, range     yes
      or integer 18-80)
ER    emotion prosody profile: rate, pitch, level, pitch-range swing, tremolo,      yes
      saturation (CREMA-D / MELD label)
EIE   CREMA-D: a random emotion profile at 0 / 0.35 / 0.7 / 1 × its deviation      yes
      from neutral (unspecified/low/medium/high); MELD: a profile of that polarity
SSD   real = clean espeak signal; fake = the same re-synthesised by Griffin-Lim     yes
      from an 80-band mel spectrogram (real, fake); in pairs: each sentence and
      voice once real, once fake
SV    six distinct voices with own pitch/rate (joey … chandler)                     yes
PSWL  word-by-word reading with spelling substitutions (accuracy), low quiet        yes
      words (stress) (per-word scores in the release format)
PSSL  as PSWL plus pauses between words (fluency); scores derived exactly            yes
      (sentence + "For the sentence: accuracy is N, prosodic is N, ...")
SCR   a Speech Commands keyword in a 1 s clip (the word)                            no
IP    SLURP-like request from intent templates (the intent, e.g. "alarm set")       no
EE    as IP ("alarm set [time : seven am]")                                         no
VSC   shaped noise / voiced bursts per sound (laughter … sniff)                     yes
IC    synthetic note: one additive / FM / Karplus-Strong timbre per family          yes
ISC   acoustic = jitter+noise+room, electronic = saturation+tremolo, synthetic=dry  yes
PP    note at exact 440·2^((p−69)/12) (the MIDI number)                             no*
VC    note peak 0.9·v/127 and velocity-dependent brightness (127/100/75/50/25)      no*
====  ============================================================================  =======

(*) exact physical property, synthetic timbre. Speech content (ASR, PR, SCR, IP, EE, AQA) is
real TTS speech, not a proxy, but single-engine: espeak voices only.
"""

from llaso_core import hookimpl
from llaso_core.specs import RecipeSpec

EVERY_MODALITY = {"pa": 1.0, "ta": 1.0, "at": 1.0}

#: task id -> ``module:generator`` in this package; default modality weights unless in WEIGHTS
GENERATORS = {
    "ASR": "speech:ASR", "PR": "speech:PR", "AQA": "speech:question_answering",
    "SSD": "speech:synthetic_speech", "PSWL": "speech:PSWL", "PSSL": "speech:PSSL", "SCR": "speech:keyword",
    "IP": "speech:IP", "EE": "speech:EE",
    "SGC": "speaker:SGC", "AC": "speaker:AC", "AR": "speaker:AR", "SV": "speaker:SV",
    "ER": "emotion:ER", "EIE": "emotion:EIE",
    "VSC": "sounds:vocal_sound", "IC": "sounds:IC", "ISC": "sounds:ISC", "PP": "sounds:PP", "VC": "sounds:VC",
}
WEIGHTS = {"AQA": EVERY_MODALITY}  #: a third of AQA's samples in each of pa/ta/at

RECIPES = tuple(RecipeSpec(task, f"llaso_plugins.recipes.{ref}", **({"modality_weights": WEIGHTS[task]}
                                                                   if task in WEIGHTS else {}))
                for task, ref in GENERATORS.items())


@hookimpl
def llaso_register_recipes(register):
    for recipe in RECIPES:
        register(recipe)
