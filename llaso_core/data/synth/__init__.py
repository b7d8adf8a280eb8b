"""A small real-audio corpus for all 20 tasks, generated offline (espeak-ng + numpy).

``synthesize_corpus(out, per_task=200, seed=0, workers=2)`` writes ``out/audio/``,
``out/train.jsonl``, ``out/eval.jsonl`` and ``out/manifest.json`` (see :mod:`.corpus`).
Labels are exact by construction; where the property is only imitated the task is a proxy:

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
      from an 80-band mel spectrogram (real, fake)
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

from llaso_core.data.synth.corpus import GENERATOR, VERSION, plan, synthesize_corpus

__all__ = ["GENERATOR", "VERSION", "plan", "synthesize_corpus"]
