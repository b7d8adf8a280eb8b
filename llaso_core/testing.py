"""A test kit for plugin authors: check a task against the contract in one call.

```python
from llaso_core.testing import check_task

def test_my_task():
    assert check_task("SRE") == []
```

``check_task`` loads the installed plugins, then for the task: every reference (modality,
metric, extractor) resolves, every template renders, an example prompt renders in each
modality, its mini-corpus recipe (if one is registered) plans valid targets in every modality and
split, and an echo model (answers = references) gets a perfect score from every
rule-based metric under the strict protocol (the paper protocol keeps the release's quirks, e.g.
"northern irish" also counts as an "irish" hit in its abstention rule).

``tone_corpus`` writes a small real-audio corpus with no speech synthesis (tones whose pitch gives
the speaker-gender label): what tests and ``benchmarks/gpu_evidence.sh`` train and evaluate on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llaso_core.chat import LLASO_CHAT
from llaso_core.data.sample import Sample
from llaso_core.data.sndfile import sf
from llaso_core.data.store import write_samples
from llaso_core.evaluation.judging import JudgeOptions
from llaso_core.evaluation.predictions import PredictionRow, PredictionSet
from llaso_core.evaluation.score import score_set
from llaso_core.loader import PluginHost, get_host
from llaso_core.metrics.base import Protocol
from llaso_core.prompts import example_query
from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment
from llaso_core.specs import LabelSet, Source, TaskSpec

PERFECT = {"acc": 1.0, "abstention": 0.0, "wer": 0.0, "cer": 0.0, "per": 0.0, "mae": 0.0, "pssl_acc": 1.0}


def echo_references(label_set: LabelSet, extractor: str) -> list[str]:
    """References an echo model can repeat: every label, numbers in range, or sample text."""
    if label_set.kind == "closed":
        return [f"{label.capitalize()}." for label in label_set.labels]
    if label_set.kind == "numeric":
        low, high = label_set.value_range  # type: ignore[misc]
        return [str(int(low + (high - low) * k / 4)) for k in range(5)]
    if extractor == "pssl":
        return [f"For the sentence: accuracy is {a}, prosodic is {a}, fluency is {a} total score is {a}."
                for a in (3, 7, 9)]
    return ["the cat sat on the mat", "turn the lights off", "ðə kæt sæt"]


def check_task(task: str | TaskSpec, host: PluginHost | None = None) -> list[str]:
    """Problems found with ``task`` (an id or a spec); an empty list means it passes."""
    host = host or get_host()
    spec = host.tasks.get(task) if isinstance(task, str) else task
    problems: list[str] = []
    for modality in spec.modalities:
        if modality not in host.modalities:
            problems.append(f"modality {modality!r} is not registered")
            continue
        if "<audio>" not in LLASO_CHAT.render(example_query(spec, host.modalities.get(modality))).prompt:
            problems.append(f"the {modality} example prompt has no audio placeholder")
    for source in spec.sources:
        label_set = spec.label_set(source.label_set)
        for template in spec.templates.templates:
            if "{" in template.render(label_set):
                problems.append(f"template {template.id} leaves a placeholder unrendered")
        problems += _check_echo(spec, source, label_set, host)
    return problems + _check_recipe(spec, host)


def _check_recipe(spec: TaskSpec, host: PluginHost) -> list[str]:
    """The recipe's planned samples (two per modality and split) have targets the label sets accept."""
    from llaso_core.data.synth.corpus import RecipeError, plan_task

    if spec.id not in host.recipes:
        return []
    modalities = {m.id: m for m in host.modalities}
    try:
        planned = plan_task(spec, host.recipes.get(spec.id), modalities, 4 * len(spec.modalities), seed=0)
    except RecipeError as exc:
        return [str(exc)]
    problems = []
    for sample in (p.sample for p in planned):
        rejected = spec.label_set(spec.source(sample.source).label_set).rejects(sample.target)
        if rejected is not None:
            problems.append(f"recipe sample {sample.id}: {rejected[0]} {rejected[1]}".rstrip())
    return problems


def _check_echo(spec: TaskSpec, source: Source, label_set: LabelSet, host: PluginHost) -> list[str]:
    missing = [m for m in spec.metrics_for(source) if m not in host.metrics]
    extractor = spec.extractor_for(source)
    if extractor not in host.extractors:
        missing.append(f"extractor {extractor}")
    if missing:
        return [f"source {source.stem}: unknown {', '.join(missing)}"]
    references = echo_references(label_set, extractor)
    rows = tuple(PredictionRow(i, ref, ref, "Question<audio>", ("a.wav",), source.modalities[0])
                 for i, ref in enumerate(references))
    pset = PredictionSet(f"echo:{source.stem}", Path("echo.jsonl"), source.stem, rows, "llaso")
    scored = score_set(pset, spec, source, host, Protocol.STRICT, JudgeOptions(backend="none"), [])
    return [f"source {source.stem}: an echo model gets {name} = {result.value} (expected {PERFECT[name]})"
            for name, result in scored.metrics.items() if name in PERFECT and result.value != PERFECT[name]]


def tone_corpus(root: Path, n: int = 48, seed: int = 0) -> list[Sample]:
    """``n`` SGC samples: a low hum is 'Male.', a high one 'Female.' (ta), written under ``root``."""
    rng = np.random.default_rng(seed)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(n):
        female = i % 2 == 1
        f0 = rng.uniform(190, 260) if female else rng.uniform(85, 130)
        seconds = rng.uniform(0.6, 1.4)
        t = np.arange(int(16000 * seconds)) / 16000
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * 0.2
        path = f"audio/tone_{i}.wav"
        sf.write(root / path, wave.astype(np.float32), 16000)
        query = Query("ta", (TextSegment("What is the speaker's gender? Choose from: male, female.", "instruction"),
                             AudioSegment(AudioRef(path), "input")))
        samples.append(Sample(id=f"tone:{i}", task="SGC", source="vctk_gender_classification", query=query,
                              target="Female." if female else "Male."))
    write_samples(root / "train.jsonl", samples)
    return samples
