"""Build the synthetic corpus: plan every sample, render the audio in worker processes, write
``train.jsonl`` / ``eval.jsonl`` / ``manifest.json``.

Planning runs in the calling process and is a pure function of (seed, per_task, the registered
tasks and their recipes, see :mod:`.recipe`): which items, labels, voices, templates, cues and
modalities each sample gets. Only the
audio is rendered in parallel, so the jsonl files are identical for a seed whatever ``workers``
is (the audio may differ in the last bits: espeak-ng keeps pitch-jitter state between calls).

Per task, ``per_task`` samples are spread over the task's modalities by its recipe's weights (by
default 70 % ``ta`` / 30 % ``pa``) and each modality 80/20 over
train/eval. Eval samples draw from the held-out item pools (:func:`.text.split_of`), held-out
instruction templates (``split="eval"``) and the held-out ``pa`` cues (``eval_cues``).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Sequence

import attrs

from llaso_core.data import MINICORPUS_PER_TASK
from llaso_core.data.sample import Sample
from llaso_core.data.synth import voices
from llaso_core.data.synth.render import Recipe, render_jobs
from llaso_core.data.synth.recipe import Context, Generator, Item
from llaso_core.prompts import instruction_text
from llaso_core.query import AudioRef, assemble
from llaso_core.specs import ModalitySpec, RecipeSpec, TaskSpec

GENERATOR = "llaso_core.data.synth"
VERSION = "2"  #: bump whenever the same (seed, per_task) would give different samples or audio
EVAL_FRACTION = 0.2
INSTRUCTION_GAP = 0.3  #: seconds of silence between a spoken instruction and the input clip
INSTRUCTION_RATE, INSTRUCTION_PITCH = 190, 50  #: spoken instructions: a little brisk
MARKER = ".llaso-synth"  #: marks a folder as written by this module (safe to clear)

Progress = Callable[[str, int, int], None]


@attrs.frozen
class Planned:
    sample: Sample
    recipe: Recipe  #: the one audio file of the sample (every modality has exactly one)


# -- planning ------------------------------------------------------------------------------------------
def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` over the keys by weight (largest remainder), at least 2 each when possible
    (one train and one eval sample)."""
    keys = list(weights)
    norm = sum(weights.values())
    raw = {k: total * weights[k] / norm for k in keys}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    for k in sorted(keys, key=lambda k: (out[k] - raw[k], keys.index(k)))[:total - sum(out.values())]:
        out[k] += 1
    if total >= 2 * len(keys):
        for k in keys:
            while out[k] < 2:
                donor = max(keys, key=lambda d: out[d])
                out[donor] -= 1
                out[k] += 1
    return out


def split_counts(n: int) -> dict[str, int]:
    """80/20 train/eval, with at least one of each when ``n >= 2``."""
    n_eval = int(round(n * EVAL_FRACTION))
    if n >= 2:
        n_eval = min(max(n_eval, 1), n - 1)
    return {"train": n - n_eval, "eval": n_eval}


class _Dealer:
    """Balanced labels: a shuffled deck per (labels, key), dealt and reshuffled when empty."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.decks: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        self.rngs: dict[tuple[str, tuple[str, ...]], random.Random] = {}

    def deal(self, key: str, labels: Sequence[str]) -> str:
        k = (key, tuple(labels))
        if k not in self.rngs:
            self.rngs[k] = random.Random(f"{self.seed}|{key}|{'|'.join(labels)}")
        if not self.decks.get(k):
            deck = list(labels)
            self.rngs[k].shuffle(deck)
            self.decks[k] = deck
        return self.decks[k].pop()


def _cues(modality: ModalitySpec, split: str) -> tuple[str, ...]:
    held_out = set(modality.eval_cues)
    if not held_out:
        return modality.cues
    return tuple(c for c in modality.cues if (c in held_out) == (split == "eval"))


def _instruction_speech(text: str, voice: str) -> Recipe:
    return {"kind": "speech", "text": text, "voice": voice, "rate": INSTRUCTION_RATE, "pitch": INSTRUCTION_PITCH}


def _instruction_facts(voice: str) -> dict[str, Any]:
    return {"voice": voice, "rate": INSTRUCTION_RATE, "pitch": INSTRUCTION_PITCH}


def _sample(task: TaskSpec, modality: ModalitySpec, ctx: Context, item: Item, sample_id: str,
            seed: int) -> Planned:
    """Put an item into ``modality``'s layout."""
    path = f"audio/{task.id}/{sample_id}.wav"
    metadata = {"item": item.key, **item.metadata}
    template_id: str | None = None
    speaks_instruction = modality.slot("instruction") is not None and modality.slot("instruction").medium == "audio"
    needs_instruction = modality.slot("request") is None or not item.request
    if needs_instruction:
        template_id, instruction = instruction_text(task, ctx.source, key=sample_id, split=ctx.split, seed=seed)
    if modality.slot("request") is not None:  # pa: one clip carries the request
        cue = ctx.rng.choice(_cues(modality, ctx.split))
        if item.request:
            recipe, transcript = item.audio, item.spoken
        else:
            voice = ctx.rng.choice(voices.INSTRUCTION_VOICES)
            metadata["instruction"] = _instruction_facts(voice)
            recipe = {"kind": "concat", "parts": [_instruction_speech(instruction, voice),
                                                  {"kind": "silence", "seconds": INSTRUCTION_GAP}, item.audio]}
            transcript = instruction
        query = assemble(modality, instruction=AudioRef(path, transcript), cue=cue)
    elif speaks_instruction:  # at: spoken instruction, text input
        if item.text is None:
            raise ValueError(f"task {task.id}: modality {modality.id} needs a text input")
        voice = ctx.rng.choice(voices.INSTRUCTION_VOICES)
        metadata = {k: v for k, v in metadata.items() if k not in ("voice", "rate", "pitch")}  # input is text
        metadata["instruction"] = _instruction_facts(voice)
        recipe = _instruction_speech(instruction, voice)
        query = assemble(modality, instruction=AudioRef(path, instruction), input=item.text)
    else:  # ta: text instruction, audio input
        recipe = item.audio
        query = assemble(modality, instruction=instruction, input=AudioRef(path, item.spoken))
    sample = Sample(id=sample_id, task=task.id, source=ctx.source.stem, query=query, target=item.target,
                    split=ctx.split, template_id=template_id, metadata=metadata)  # type: ignore[arg-type]
    return Planned(sample, recipe)


class RecipeError(ValueError):
    """A task has no recipe, or its recipe cannot be loaded or fails; the message names both."""


def plan_task(task: TaskSpec, recipe: RecipeSpec, modalities: dict[str, ModalitySpec], per_task: int,
              seed: int) -> list[Planned]:
    """Every sample of one task, in a fixed order (train then eval; modality; index)."""
    try:
        generate: Generator = recipe.load()
    except (ImportError, AttributeError) as exc:
        raise RecipeError(f"recipe of task {task.id}: cannot load {recipe.factory}: {exc}") from None
    sources_of = {m: [s for s in task.sources if m in s.modalities] for m in task.modalities}
    weights = {m: recipe.weight(m) for m, sources in sources_of.items() if sources}
    counts = {m: split_counts(n) for m, n in allocate(per_task, weights).items()}
    dealer = _Dealer(f"{seed}|{task.id}")
    planned: list[Planned] = []
    for split in ("train", "eval"):
        number = 0
        for modality_id, split_count in counts.items():
            sources = sources_of[modality_id]
            for i in range(split_count[split]):
                source = sources[i % len(sources)]
                sample_id = f"synth-{task.id.lower()}-{split}-{number:05d}"
                number += 1
                rng = random.Random(f"{seed}|{task.id}|{sample_id}")
                ctx = Context(task, source, split, rng,
                              lambda labels, _k=f"{source.stem}|{split}": dealer.deal(_k, labels),
                              index=i // len(sources),
                              stream=f"{seed}|{task.id}|{source.stem}|{split}|{modality_id}")
                try:
                    item = generate(ctx)
                except Exception as exc:  # a plugin's generator: name it, not a traceback
                    raise RecipeError(f"recipe of task {task.id} ({recipe.factory}) failed on {sample_id}: "
                                      f"{type(exc).__name__}: {exc}") from exc
                if not isinstance(item, Item):
                    raise RecipeError(f"recipe of task {task.id} ({recipe.factory}) returned "
                                      f"{type(item).__name__}, not an Item")
                planned.append(_sample(task, modalities[modality_id], ctx, item, sample_id, seed))
    return planned


def plan(per_task: int, seed: int, host: Any = None, tasks: Sequence[str] | None = None
         ) -> tuple[list[Planned], list[str]]:
    """(every planned sample, ids of registered tasks without a recipe); ``tasks`` limits the corpus
    to those task ids (all registered tasks when None; a named task without a recipe is an error)."""
    if host is None:
        from llaso_core.loader import get_host

        host = get_host()
    modalities = {m.id: m for m in host.modalities}
    planned: list[Planned] = []
    skipped = []
    wanted = None if tasks is None else {host.tasks.get(t).id for t in tasks}
    for task in host.tasks:
        if wanted is not None and task.id not in wanted:
            continue
        if task.id not in host.recipes:
            if wanted is not None:
                raise RecipeError(f"task {task.id} has no mini-corpus recipe: its plugin can register one "
                                  "with llaso_register_recipes (docs/plugins.md)")
            skipped.append(task.id)
            continue
        planned += plan_task(task, host.recipes.get(task.id), modalities, per_task, seed)
    return planned, skipped


# -- rendering -----------------------------------------------------------------------------------------
def _chunks(jobs: list[tuple[str, Recipe]], size: int) -> list[list[tuple[str, Recipe]]]:
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


def render_all(out: Path, planned: list[Planned], workers: int, progress: Progress | None) -> dict[str, float]:
    """Render every sample's audio under ``out``; returns seconds per relative path."""
    by_task: dict[str, list[tuple[str, Recipe]]] = defaultdict(list)
    for p in planned:
        by_task[p.sample.task].append((p.sample.audio[0].path, p.recipe))
    size = max(4, math.ceil(max((len(j) for j in by_task.values()), default=1) / (4 * max(1, workers))))
    work = [(task, chunk) for task, jobs in by_task.items() for chunk in _chunks(jobs, size)]
    done: Counter[str] = Counter()
    seconds: dict[str, float] = {}

    def finished(task: str, result: list[tuple[str, float]]) -> None:
        seconds.update(result)
        done[task] += len(result)
        if progress is not None:
            progress(task, done[task], len(by_task[task]))

    if workers <= 1:
        for task, chunk in work:
            finished(task, render_jobs(str(out), chunk))
        return seconds
    import multiprocessing

    # spawn: a fresh interpreter per worker, safe whatever threads or torch state the caller has
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(render_jobs, str(out), chunk): task for task, chunk in work}
        for future in as_completed(futures):
            finished(futures[future], future.result())
    return seconds


# -- manifest and cache ----------------------------------------------------------------------------------
def _label_distribution(samples: list[Sample]) -> dict[str, Any]:
    counts = Counter(s.target for s in samples)
    if len(counts) <= 130:
        return dict(sorted(counts.items()))
    return {"distinct": len(counts), "samples": len(samples)}


def build_manifest(samples: list[Sample], seconds: dict[str, float], *, seed: int, per_task: int,
                   workers: int, elapsed: float, skipped: list[str],
                   requested_tasks: list[str] | None = None, recipes: dict[str, str] | None = None
                   ) -> dict[str, Any]:
    by_task: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_task[s.task].append(s)

    def count(key: Callable[[Sample], str]) -> dict[str, int]:
        return dict(sorted(Counter(key(s) for s in samples).items()))

    from llaso_core.tts.espeak import EspeakEngine

    return {
        "generator": GENERATOR, "version": VERSION, "seed": seed, "per_task": per_task,
        "files": {"train": "train.jsonl", "eval": "eval.jsonl", "audio": "audio"},
        "sample_rate": 16000, "engine": f"espeak-ng {EspeakEngine().version}",
        "tasks": sorted(by_task), "requested_tasks": requested_tasks, "skipped_tasks": skipped,
        "recipes": recipes,
        "counts": {
            "total": len(samples), "split": count(lambda s: s.split), "modality": count(lambda s: s.modality),
            "source": count(lambda s: s.source),
            "task": {t: dict(sorted(Counter(s.split for s in ss).items())) for t, ss in sorted(by_task.items())},
            "task_modality": {t: dict(sorted(Counter(s.modality for s in ss).items()))
                              for t, ss in sorted(by_task.items())},
        },
        "labels": {t: _label_distribution(ss) for t, ss in sorted(by_task.items())},
        "audio_files": len(seconds), "audio_seconds": round(sum(seconds.values()), 2),
        "workers": workers, "elapsed_seconds": round(elapsed, 2),
    }


def load_cached(out: Path, *, seed: int, per_task: int, tasks: list[str] | None = None,
                recipes: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The manifest of a finished corpus in ``out`` made with these settings (and, when given, the
    same ``recipes``: task id -> factory), else None."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (manifest.get("generator") == GENERATOR and manifest.get("version") == VERSION
            and manifest.get("seed") == seed and manifest.get("per_task") == per_task
            and manifest.get("requested_tasks") == tasks
            and (recipes is None or manifest.get("recipes") == recipes))
    files_there = all((out / name).is_file() for name in ("train.jsonl", "eval.jsonl"))
    return manifest if same and files_there else None


def _prepare(out: Path) -> None:
    """Make ``out`` ready for a fresh corpus; clear only what this module wrote before."""
    out.mkdir(parents=True, exist_ok=True)
    ours = (out / MARKER).exists()
    names = {p.name for p in out.iterdir()}
    if not ours and names - {MARKER}:
        raise FileExistsError(f"{out} is not empty and was not written by {GENERATOR}; choose an empty folder")
    for name in ("manifest.json", "train.jsonl", "eval.jsonl"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "audio", ignore_errors=True)
    (out / MARKER).write_text(f"{GENERATOR} {VERSION}\n", encoding="utf-8")


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def synthesize_corpus(out: Path, *, per_task: int = MINICORPUS_PER_TASK, seed: int = 0, workers: int = 2,
                      progress: Progress | None = None, tasks: Sequence[str] | None = None,
                      host: Any = None) -> dict[str, Any]:
    """Generate (or reuse) the synthetic corpus in ``out`` and return its manifest.

    ``out/audio/<TASK>/<id>.wav`` (16 kHz mono 16-bit), ``out/train.jsonl`` and ``out/eval.jsonl``
    (one :meth:`Sample.to_dict` per line, audio paths relative to ``out``), ``out/manifest.json``.
    When ``out/manifest.json`` already records this version, seed, ``per_task`` and the same
    recipes, it is returned without regenerating anything. ``workers`` processes render the audio
    (<= 1: in this process); ``progress(task, done, total)`` is called as each chunk of a task finishes.
    ``tasks`` limits the corpus to those task ids (default: every registered task).
    Callers running this from a script with ``workers > 1`` need the usual
    ``if __name__ == "__main__":`` guard (workers are spawned).
    """
    out = Path(out)
    if per_task < 1:
        raise ValueError(f"per_task must be at least 1, got {per_task}")
    if host is None:
        from llaso_core.loader import get_host

        host = get_host()
    task_list = None if tasks is None else sorted(tasks)
    wanted = None if task_list is None else {host.tasks.get(t).id for t in task_list}
    recipes = {e.id: e.spec.factory for e in host.recipes.entries()
               if e.id in host.tasks and (wanted is None or e.id in wanted)}
    cached = load_cached(out, seed=seed, per_task=per_task, tasks=task_list, recipes=recipes)
    if cached is not None:
        return cached
    start = time.perf_counter()
    planned, skipped = plan(per_task, seed, host, tasks=task_list)
    _prepare(out)
    seconds = render_all(out, planned, workers, progress)
    samples = [p.sample for p in planned]
    for split in ("train", "eval"):
        lines = [json.dumps(s.to_dict(), ensure_ascii=False) for s in samples if s.split == split]
        _write_text(out / f"{split}.jsonl", "\n".join(lines) + ("\n" if lines else ""))
    manifest = build_manifest(samples, seconds, seed=seed, per_task=per_task, workers=workers,
                              requested_tasks=task_list, recipes=recipes,
                              elapsed=time.perf_counter() - start, skipped=skipped)
    _write_text(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest
