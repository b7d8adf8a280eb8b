"""The offline mini-corpus engine: plans samples from the registered tasks' recipes, renders
their audio (espeak-ng speech, synthetic notes and vocal sounds, DSP effects) and writes the corpus.

``synthesize_corpus(out, per_task=MINICORPUS_PER_TASK, seed=0, workers=2)`` writes ``out/audio/``,
``out/train.jsonl``, ``out/eval.jsonl`` and ``out/manifest.json`` (see :mod:`.corpus`). What each
task's samples are is its recipe's business (``llaso_register_recipes``, :mod:`.recipe`); the
built-in tasks' recipes are in ``llaso_plugins.recipes``.
"""

from llaso_core.data.synth.corpus import GENERATOR, VERSION, RecipeError, plan, synthesize_corpus

__all__ = ["GENERATOR", "VERSION", "RecipeError", "plan", "synthesize_corpus"]
