"""Data: the unified sample record, LLaSO-layout ingestion, audio, corpus building, the mini-corpus."""

#: samples per task of the default mini-corpus (``llaso data synth``, ``llaso train`` without data); here,
#: not in :mod:`.synth`, so that reading it does not load the synthesis engine. 500: at 200 the tiny
#: encoder alone barely hears accent, age or velocity (benchmarks/README.md, encoder_probe.py)
MINICORPUS_PER_TASK = 500
