"""``build_corpus``: raw corpora in, a LLaSO-style instruction corpus out (paper Figure 2).

Stages:

1. **collect** -- every input's adapter yields raw items; targets are checked against the task's
   label set (closed labels, numeric ranges), transcripts (targets scored by WER) normalised
   (``basic_en``) when asked, non-English text-QA records dropped, and each (item, task) pair
   becomes an *entry* with the modalities it will be built in and its split: ``eval`` when a
   seeded hash of the item's group (speaker, instrument, actor; prefixed by the input name) falls
   under ``eval_fraction``, so no group is in both splits.
2. **select** -- per task, seeded: ``balance_labels`` down-samples each closed label of a
   (source, split) to the rarest label's count, ``max_per_label`` caps each, ``max_per_task``
   keeps a seeded share of every (source, split) (labels interleaved when balancing). Selection
   works on metadata only, before any audio is decoded; a clip found broken later drops its
   entries, so the counts are upper bounds.
3. **build** -- each selected item's clip is decoded, downmixed and resampled (``load_audio``) and
   written as a 16 kHz WAV under ``out/audio/<input>/``; problems are recorded and the item
   skipped. Each entry becomes one sample per modality: ``ta`` (template text + clip), ``pa``
   (the template spoken by a seeded voice + silence + the clip in one WAV, with a train or held-out
   cue), and for text-QA ``at`` / ``ta`` / ``pa`` by speech synthesis. Templates come from
   ``instruction_text(task, source, key=<input>:<item id>, split, seed)``: held-out templates only
   in eval. ``audio.max_seconds`` bounds the source clip and each spoken text-QA part (longer
   ones are skipped), not the joined pure-audio request.
4. **write** -- ``out/train.jsonl``, ``out/eval.jsonl`` (audio paths relative to ``out``),
   ``out/llaso/`` (release layout, by modality folder; audio paths relative to ``out/llaso``, i.e.
   ``../audio/...``, so ``load_release(out / "llaso")`` finds them), ``out/manifest.json``.

The same spec and seed give the same JSON Lines (audio bytes of synthesised speech are reused from
the TTS cache; espeak-ng itself is reproducible only up to a few samples).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

import attrs
import numpy as np

from llaso_core.data.audio import AudioReport, load_audio, save_wav
from llaso_core.data.sample import Sample
from llaso_core.data.store import to_llaso_files, write_samples
from llaso_core.query import AudioRef, assemble
from llaso_core.registry import UnknownNameError
from llaso_core.specs import AdapterSpec

from .adapter import AdapterContext, ItemIterator
from .items import BuildError, Note, RawItem, Skipped, Target, is_english, map_audio, safe_name, stable_choice, stable_unit
from .spec import MODALITIES, BuildSpec, InputSpec
from .speech import Speaker, SpeechError

Progress = Callable[[str, int, "int | None"], None]

#: a target is a transcript (normalised when ``normalize_transcripts``) if its source is scored by this
TRANSCRIPT_METRIC = "wer"
MANIFEST_VERSION = 1
MAX_SKIPPED_LISTED = 200


@attrs.define
class _Input:
    spec: InputSpec
    name: str
    ctx: AdapterContext
    iter_items: ItemIterator
    read: int = 0
    entries: int = 0
    selected_items: int = 0
    built_items: int = 0
    samples: int = 0


@attrs.define
class _Entry:
    order: int
    item: int  # index into the build's item list
    target: Target
    split: str
    modalities: tuple[str, ...]
    key: str  # <input>:<item id>:<task>


@attrs.define
class _Build:
    spec: BuildSpec
    out: Path
    host: Any
    progress: Progress | None
    inputs: list[_Input] = attrs.Factory(list)
    items: list[tuple[_Input, RawItem, str]] = attrs.Factory(list)  # (input, item, split)
    entries: list[_Entry] = attrs.Factory(list)
    skipped: Counter = attrs.Factory(Counter)
    skipped_listed: list[dict[str, str]] = attrs.Factory(list)
    notes: list[dict[str, str]] = attrs.Factory(list)
    report: AudioReport | None = None
    speaker: Speaker | None = None
    _checked: dict[tuple[str, str], Any] = attrs.Factory(dict)

    # -- bookkeeping -----------------------------------------------------------------------
    def skip(self, reason: str, where: str, detail: str = "", count: int = 1) -> None:
        self.skipped[reason] += count
        if len(self.skipped_listed) < MAX_SKIPPED_LISTED:
            self.skipped_listed.append({"reason": reason, "where": where, "detail": detail})

    def tick(self, stage: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def build_corpus(spec: BuildSpec, out: str | os.PathLike[str], *, progress: Progress | None = None,
                 host: Any = None) -> dict[str, Any]:
    """Build the corpus ``spec`` describes into ``out``; returns the manifest (also written to
    ``out/manifest.json``). ``progress(stage, done, total)`` is called as items are read
    (``collect``), built (``build``) and written (``write``). Raises ``BuildError`` for a spec
    that cannot be built (unknown adapter, task, stem, voice, unreadable input)."""
    started = time.monotonic()
    if host is None:
        from llaso_core.loader import get_host

        host = get_host()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    build = _Build(spec=spec, out=out, host=host, progress=progress)
    build.report = AudioReport(max_listed=spec.max_listed_problems)
    _open_inputs(build)
    _collect(build)
    selected = _select(build)
    if _needs_speech(build, selected):
        build.speaker = Speaker(spec.tts, spec.audio, out, host, spec.seed)
    samples, built_entries = _build_samples(build, selected)
    manifest = _write(build, samples, built_entries, started)
    return manifest


# -- 0. inputs -----------------------------------------------------------------------------------
def get_adapter(host: Any, name: str) -> AdapterSpec:
    """The registered adapter ``name``; a BuildError with close matches when there is none."""
    try:
        return host.adapters.get(name)
    except UnknownNameError as exc:
        raise BuildError(str(exc)) from None


def _load(adapter: AdapterSpec) -> ItemIterator:
    try:
        return adapter.load()
    except (ImportError, AttributeError) as exc:
        raise BuildError(f"adapter {adapter.id}: cannot load {adapter.factory}: {exc}") from None


def _open_inputs(build: _Build) -> None:
    host, names = build.host, Counter(i.name or i.adapter for i in build.spec.inputs)
    used: set[str] = set()
    for index, spec in enumerate(build.spec.inputs):
        adapter = get_adapter(host, spec.adapter)
        unknown_options = sorted(set(spec.options) - set(adapter.options))
        if unknown_options:
            raise BuildError(f"adapter {adapter.id}: unknown option(s) {', '.join(unknown_options)}; "
                             f"it takes: {', '.join(adapter.options) or 'none'}")
        tasks = tuple(t.id for t in host.tasks if adapter.tasks is None or t.id in adapter.tasks)
        if not tasks:
            raise BuildError(f"input {index} ({spec.adapter}): none of the tasks it produces "
                             f"({', '.join(adapter.tasks or ())}) is registered")
        if spec.tasks is not None:
            unknown = [t for t in spec.tasks if t not in tasks]
            if unknown:
                raise BuildError(f"input {index} ({spec.adapter}): it cannot produce task(s) {', '.join(unknown)}; "
                                 f"it produces {', '.join(tasks)}")
            tasks = spec.tasks
        sources = dict(spec.sources)
        options = dict(spec.options)
        if spec.source is not None:
            found = host.source_of(spec.source)
            if found is not None:
                sources.setdefault(found[0].id, spec.source)
            elif "name" in adapter.options:
                options.setdefault("name", spec.source)
            else:
                raise BuildError(f"input {index} ({spec.adapter}): no task has a source {spec.source!r}")
        for task_id, stem in sources.items():
            if task_id in MODALITIES:
                continue
            if task_id not in host.tasks:
                raise BuildError(f"input {index}: sources names unknown task {task_id!r}")
            try:
                host.tasks.get(task_id).source(stem)
            except KeyError:
                raise BuildError(f"input {index}: task {task_id} has no source {stem!r} (its sources: "
                                 f"{', '.join(host.tasks.get(task_id).stems)})") from None
        name = spec.name or spec.adapter
        if spec.name is None and names[name] > 1:
            name = f"{name}-{index}"
        if name in used:
            raise BuildError(f"two inputs are named {name!r}; give them distinct 'name's")
        used.add(name)
        safe = safe_name(name)
        ctx = AdapterContext(adapter=adapter, path=Path(spec.path), tasks=frozenset(tasks), sources=sources,
                             options=options, host=host, name=safe)
        build.inputs.append(_Input(spec=spec, name=safe, ctx=ctx, iter_items=_load(adapter)))


# -- 1. collect ----------------------------------------------------------------------------------
def _collect(build: _Build) -> None:
    for source in build.inputs:
        try:
            for found in source.iter_items(source.ctx):
                if isinstance(found, Skipped):
                    build.skip(found.reason, found.where, found.detail)
                    continue
                if isinstance(found, Note):
                    build.notes.append(found.to_dict())
                    continue
                source.read += 1
                _add_item(build, source, found)
                if source.read % 1000 == 0:
                    build.tick("collect", source.read, None)
        except BuildError:
            raise
        except Exception as exc:  # a plugin's adapter: name it, not a traceback
            raise BuildError(f"adapter {source.ctx.adapter.id} failed on input {source.name} ({source.spec.path}): "
                             f"{type(exc).__name__}: {exc}") from exc
        build.tick("collect", source.read, source.read)


def _add_item(build: _Build, source: _Input, item: RawItem) -> None:
    spec, where = build.spec, f"{source.name}:{item.id}"
    if item.kind == "text" and spec.english_only:
        text = " ".join(t for t in (item.prompt.instruction, item.prompt.input or "",
                                    *(t.value for t in item.targets)) if t)
        if not is_english(text):
            build.skip("non_english", where)
            return
    split = item.split or ("eval" if stable_unit(spec.seed, "split", f"{source.name}:{item.group}")
                           < spec.eval_fraction else "train")
    entries = []
    for target in item.targets:
        target = _checked_target(build, target, where, verbatim=item.kind == "sample")
        if target is None:
            continue
        modalities = _modalities(build, item, target)
        if not modalities:
            build.skip("no_wanted_modality", f"{where}:{target.task}")
            continue
        entries.append((target, modalities))
    if not entries:
        return
    index = len(build.items)
    build.items.append((source, item, split))
    for target, modalities in entries:
        build.entries.append(_Entry(order=len(build.entries), item=index, target=target, split=split,
                                    modalities=modalities, key=f"{where}:{target.task}"))
        source.entries += 1


def _task_source(build: _Build, task_id: str, stem: str | None) -> tuple[Any, Any]:
    key = (task_id, stem or "")
    if key not in build._checked:
        if task_id not in build.host.tasks:
            raise BuildError(f"an adapter produced unknown task {task_id!r}")
        task = build.host.tasks.get(task_id)
        try:
            source = task.source(stem) if stem else task.sources[0]
        except KeyError:
            raise BuildError(f"task {task_id} has no source {stem!r} (its sources: {', '.join(task.stems)})") from None
        build._checked[key] = (task, source)
    return build._checked[key]


def _checked_target(build: _Build, target: Target, where: str, verbatim: bool = False) -> Target | None:
    """The target with a normalised value, or None (counted) when its value is not valid.
    ``verbatim`` (release samples, passed through as they are): only an empty target is refused."""
    task, source = _task_source(build, target.task, target.source)
    for stem in target.by_modality.values():
        _task_source(build, target.task, stem)
    if verbatim:
        if not str(target.value).strip():
            build.skip("empty_target", f"{where}:{target.task}")
            return None
        return target
    value = str(target.value).strip()
    if build.spec.normalize_transcripts and TRANSCRIPT_METRIC in task.metrics_for(source):
        from llaso_core.metrics.normalize import basic_en

        value = basic_en(value)
    labels = task.label_set(source.label_set)
    rejected = labels.rejects(value)
    if rejected is not None:
        reason, detail = rejected
        build.skip(reason, f"{where}:{target.task}", detail)
        return None
    return attrs.evolve(target, value=value)


def _modalities(build: _Build, item: RawItem, target: Target) -> tuple[str, ...]:
    wanted = build.spec.modalities
    if item.kind == "sample":
        return (item.sample.modality,) if item.sample.modality in wanted else ()
    out = []
    for modality in MODALITIES:
        stem = target.source_for(modality)
        if modality not in wanted or stem is None:
            continue
        _, source = _task_source(build, target.task, stem)
        if modality not in source.modalities:
            continue
        if item.kind == "audio" and modality == "at":
            continue  # an audio item has no text input to pair with a spoken instruction
        if item.kind == "text" and modality in ("ta", "at") and not item.prompt.input:
            continue
        out.append(modality)
    return tuple(out)


# -- 2. select -----------------------------------------------------------------------------------
def _select(build: _Build) -> list[_Entry]:
    spec = build.spec
    by_task: dict[str, list[_Entry]] = defaultdict(list)
    for entry in build.entries:
        by_task[entry.target.task].append(entry)
    kept: list[_Entry] = []
    for task_id, entries in by_task.items():
        task = build.host.tasks.get(task_id)
        rank = {id(e): stable_unit(spec.seed, "select", e.key) for e in entries}
        buckets: dict[tuple[str, str], dict[str, list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        for entry in sorted(entries, key=lambda e: rank[id(e)]):
            buckets[(entry.target.source or "", entry.split)][entry.target.value].append(entry)
        closed = {stem: task.label_set(_task_source(build, task_id, stem or None)[1].label_set).kind == "closed"
                  for stem, _ in buckets}
        pools: dict[tuple[str, str], list[_Entry]] = {}
        for (stem, split), by_label in buckets.items():
            balance = spec.balance_labels and closed[stem]
            lists = list(by_label.values())
            if balance:
                rarest = min(len(v) for v in lists)
                lists = [v[:rarest] for v in lists]
            if spec.max_per_label is not None:
                lists = [v[:spec.max_per_label] for v in lists]
            if balance:  # interleave labels so that a task cap keeps the balance
                pool = [v[i] for i in range(max(map(len, lists), default=0)) for v in lists if i < len(v)]
            else:
                pool = sorted((e for v in lists for e in v), key=lambda e: rank[id(e)])
            pools[(stem, split)] = pool
        if spec.max_per_task is not None:
            quotas = _quotas({k: len(v) for k, v in pools.items()}, spec.max_per_task)
            pools = {k: v[:quotas[k]] for k, v in pools.items()}
        for pool in pools.values():
            kept.extend(pool)
    dropped = len(build.entries) - len(kept)
    if dropped:
        build.skipped["not_selected"] += dropped
    kept.sort(key=lambda e: e.order)
    return kept


def _quotas(sizes: dict[Any, int], cap: int) -> dict[Any, int]:
    """Split ``min(cap, total)`` over the pools in proportion to their sizes (largest remainder)."""
    total = sum(sizes.values())
    if total <= cap:
        return dict(sizes)
    exact = {k: cap * n / total for k, n in sizes.items()}
    quotas = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (quotas[k] - exact[k], str(k)))[:cap - sum(quotas.values())]:
        quotas[k] += 1
    return quotas


def _needs_speech(build: _Build, selected: list[_Entry]) -> bool:
    for entry in selected:
        kind = build.items[entry.item][1].kind
        if kind == "text" or (kind == "audio" and "pa" in entry.modalities):
            return True
    return False


# -- 3. build ------------------------------------------------------------------------------------
@attrs.define
class _Result:
    samples: list[Sample] = attrs.Factory(list)
    entries: list[_Entry] = attrs.Factory(list)  # entries that produced at least one sample
    skipped: list[tuple[str, str, str]] = attrs.Factory(list)


def _build_samples(build: _Build, selected: list[_Entry]) -> tuple[list[Sample], list[_Entry]]:
    per_item: dict[int, list[_Entry]] = defaultdict(list)
    for entry in selected:
        per_item[entry.item].append(entry)
    order = sorted(per_item)
    for index in order:
        build.items[index][0].selected_items += 1
    samples: list[Sample] = []
    built: list[_Entry] = []

    def work(index: int) -> _Result:
        return _build_item(build, index, per_item[index])

    def consume(results: Iterable[_Result]) -> None:
        for done, (index, result) in enumerate(zip(order, results), 1):
            for reason, where, detail in result.skipped:
                build.skip(reason, where, detail)
            if result.samples:
                source = build.items[index][0]
                source.built_items += 1
                source.samples += len(result.samples)
            samples.extend(result.samples)
            built.extend(result.entries)
            if done % 100 == 0 or done == len(order):
                build.tick("build", done, len(order))

    if build.spec.workers > 1 and len(order) > 1:
        with ThreadPoolExecutor(max_workers=build.spec.workers, thread_name_prefix="llaso-build") as pool:
            consume(pool.map(work, order))
    else:
        consume(map(work, order))
    return samples, built


def _build_item(build: _Build, index: int, entries: list[_Entry]) -> _Result:
    source, item, split = build.items[index]
    result = _Result()
    where = f"{source.name}:{item.id}"
    try:
        if item.kind == "sample":
            _pass_through(build, source, item, split, entries, result)
        elif item.kind == "audio":
            _from_audio(build, source, item, split, entries, result)
        else:
            _from_text(build, source, item, split, entries, result)
    except SpeechError as exc:
        result.samples.clear()
        result.entries.clear()
        result.skipped.append(("tts_failed", where, str(exc)))
    return result


def _standardise(build: _Build, path: Path | str, sample_id: str, rel: str) -> np.ndarray | None:
    clip = load_audio(path, build.spec.audio.policy(), sample_id=sample_id, report=build.report)
    if clip is None:
        return None
    save_wav(build.out / rel, clip.samples, clip.sample_rate)
    return clip.samples


def _audio_dir(source: _Input) -> str:
    return f"audio/{source.name}"


def _pass_through(build: _Build, source: _Input, item: RawItem, split: str, entries: list[_Entry],
                  result: _Result) -> None:
    sample = attrs.evolve(item.sample, split=split)
    if source.ctx.option("standardize_audio", False):
        rels = iter(f"{_audio_dir(source)}/{safe_name(item.id)}-{i}.wav" for i in range(len(sample.audio)))
        for ref in sample.audio:
            rel = next(rels)
            if _standardise(build, ref.path, item.id, rel) is None:
                result.skipped.append(("audio_problem", f"{source.name}:{item.id}", ref.path))
                return
        rels = iter(f"{_audio_dir(source)}/{safe_name(item.id)}-{i}.wav" for i in range(len(sample.audio)))
        sample = map_audio(sample, lambda _: next(rels))
    result.samples.append(sample)
    result.entries.extend(entries)


def _metadata(source: _Input, item: RawItem, **extra: Any) -> dict[str, Any]:
    return {"dataset": source.name, "item": item.id, "group": item.group, **item.metadata,
            **{k: v for k, v in extra.items() if v is not None}}


def _sample(build: _Build, source: _Input, item: RawItem, entry: _Entry, modality: str, split: str,
            template_id: str | None, **content: Any) -> Sample:
    spec = build.host.modalities.get(modality)
    metadata = content.pop("metadata")
    query = assemble(spec, **content)
    stem = entry.target.source_for(modality)
    return Sample(id=f"{entry.key}:{modality}", task=entry.target.task, source=stem, query=query,
                  target=entry.target.value, split=split, template_id=template_id, metadata=metadata)


def _cue(build: _Build, key: str, split: str) -> str:
    spec = build.host.modalities.get("pa")
    held_out = set(spec.eval_cues)
    pool = [c for c in spec.cues if (c in held_out) == (split == "eval")] or list(spec.cues)
    return stable_choice(pool, build.spec.seed, "cue", key)


def _from_audio(build: _Build, source: _Input, item: RawItem, split: str, entries: list[_Entry],
                result: _Result) -> None:
    from llaso_core.prompts import instruction_text

    item_key = f"{source.name}:{item.id}"
    rel = f"{_audio_dir(source)}/{safe_name(item.id)}.wav"
    clip = _standardise(build, item.audio, item_key, rel)
    if clip is None:
        result.skipped.append(("audio_problem", item_key, str(item.audio)))
        return
    for entry in entries:
        task, task_source = _task_source(build, entry.target.task, entry.target.source)
        template_id, text = instruction_text(task, task_source, key=item_key, split=split, seed=build.spec.seed)
        for modality in entry.modalities:
            if modality == "ta":
                result.samples.append(_sample(build, source, item, entry, "ta", split, template_id,
                                              instruction=text, input=AudioRef(rel),
                                              metadata=_metadata(source, item)))
            elif modality == "pa":
                speaker = build.speaker
                voice = speaker.instruction_voice(item_key)
                _, spoken = speaker.speak(text, voice, speaker.rate(item_key, "instruction"))
                pa_rel = f"{_audio_dir(source)}/pa/{safe_name(item.id)}.{entry.target.task}.wav"
                save_wav(build.out / pa_rel, speaker.join(spoken, clip), speaker.rate_hz)
                result.samples.append(_sample(
                    build, source, item, entry, "pa", split, template_id, instruction=AudioRef(pa_rel),
                    cue=_cue(build, entry.key, split),
                    metadata=_metadata(source, item, spoken_instruction=text, instruction_voice=voice)))
        result.entries.append(entry)


def _from_text(build: _Build, source: _Input, item: RawItem, split: str, entries: list[_Entry],
               result: _Result) -> None:
    speaker, prompt = build.speaker, item.prompt
    item_key = f"{source.name}:{item.id}"
    instruction_voice = speaker.instruction_voice(item_key)
    input_voice = speaker.input_voice(item_key, instruction_voice) if prompt.input else None
    limit = build.spec.audio.max_seconds
    spoken: dict[str, tuple[str, np.ndarray]] = {}

    def say(role: str) -> tuple[str, np.ndarray]:
        if role not in spoken:
            text, voice = (prompt.instruction, instruction_voice) if role == "instruction" else (prompt.input,
                                                                                                 input_voice)
            rel, samples = speaker.speak(text, voice, speaker.rate(item_key, role))
            if limit is not None and len(samples) > limit * speaker.rate_hz:
                raise SpeechError(f"the spoken {role} lasts {len(samples) / speaker.rate_hz:.1f} s, "
                                  f"over audio.max_seconds={limit:g}")
            spoken[role] = (rel, samples)
        return spoken[role]

    for entry in entries:
        for modality in entry.modalities:
            if modality == "at":
                rel, _ = say("instruction")
                result.samples.append(_sample(
                    build, source, item, entry, "at", split, None,
                    instruction=AudioRef(rel, transcript=prompt.instruction), input=prompt.input,
                    metadata=_metadata(source, item, instruction_voice=instruction_voice)))
            elif modality == "ta":
                rel, _ = say("input")
                result.samples.append(_sample(
                    build, source, item, entry, "ta", split, None,
                    instruction=prompt.instruction, input=AudioRef(rel, transcript=prompt.input),
                    metadata=_metadata(source, item, input_voice=input_voice)))
            elif modality == "pa":
                rel, first = say("instruction")
                transcript = prompt.instruction
                if prompt.input:
                    _, second = say("input")
                    rel = f"{_audio_dir(source)}/pa/{safe_name(item.id)}.wav"
                    save_wav(build.out / rel, speaker.join(first, second), speaker.rate_hz)
                    transcript = f"{prompt.instruction}\n{prompt.input}"
                result.samples.append(_sample(
                    build, source, item, entry, "pa", split, None,
                    instruction=AudioRef(rel, transcript=transcript), cue=_cue(build, entry.key, split),
                    metadata=_metadata(source, item, instruction_voice=instruction_voice,
                                       input_voice=input_voice)))
        result.entries.append(entry)


# -- 4. write ------------------------------------------------------------------------------------
def _write(build: _Build, samples: list[Sample], built: list[_Entry], started: float) -> dict[str, Any]:
    out = build.out
    train = [s for s in samples if s.split == "train"]
    evals = [s for s in samples if s.split == "eval"]
    build.tick("write", 0, 3)
    files = {"train.jsonl": write_samples(out / "train.jsonl", train),
             "eval.jsonl": write_samples(out / "eval.jsonl", evals)}
    build.tick("write", 1, 3)
    llaso = out / "llaso"
    staging = out / ".llaso.partial"
    if staging.exists():
        shutil.rmtree(staging)
    # the release layout's audio paths are relative to its own root (out/llaso), as load_release reads them
    up = (lambda p: p if os.path.isabs(p) else f"../{p}")
    written = to_llaso_files((map_audio(s, up) for s in samples), staging, by_modality=build.spec.llaso_by_modality)
    if llaso.exists():
        shutil.rmtree(llaso)
    staging.rename(llaso)
    files["llaso"] = {path.relative_to(staging).as_posix(): n for path, n in sorted(written.items())}
    build.tick("write", 2, 3)
    manifest = _manifest(build, samples, built, files, started)
    tmp = out / f".manifest.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    build.tick("write", 3, 3)
    return manifest


def _manifest(build: _Build, samples: list[Sample], built: list[_Entry], files: dict[str, Any],
              started: float) -> dict[str, Any]:
    by_task, by_modality, by_source = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
    by_task_modality, by_split = defaultdict(Counter), Counter()
    for s in samples:
        by_split[s.split] += 1
        by_task[s.task][s.split] += 1
        by_modality[s.modality][s.split] += 1
        by_source[s.source][s.split] += 1
        by_task_modality[f"{s.task}/{s.modality}"][s.split] += 1
    labels: dict[str, dict[str, dict[str, Counter]]] = defaultdict(lambda: defaultdict(Counter))
    groups: dict[str, set[str]] = {"train": set(), "eval": set()}
    hashed: dict[str, set[str]] = {"train": set(), "eval": set()}
    for entry in built:
        source, item, split = build.items[entry.item]
        task, task_source = _task_source(build, entry.target.task, entry.target.source)
        if task.label_set(task_source.label_set).kind != "open":
            labels[entry.target.task][f"{entry.target.source}/{split}"][entry.target.value] += 1
        group = f"{source.name}:{item.group}"
        groups[split].add(group)
        if item.split is None:
            hashed[split].add(group)
    overlap = hashed["train"] & hashed["eval"]
    if overlap:  # cannot happen: the split is a function of the group
        raise BuildError(f"internal error: groups in both splits: {sorted(overlap)[:5]}")
    audio = build.report.summary()
    return {
        "version": MANIFEST_VERSION,
        "seed": build.spec.seed,
        "spec": build.spec.to_dict(),
        "inputs": [{"name": i.name, "adapter": i.spec.adapter, "path": i.spec.path,
                    "tasks": sorted(i.ctx.tasks), "items_read": i.read, "entries": i.entries,
                    "items_selected": i.selected_items, "items_built": i.built_items, "samples": i.samples}
                   for i in build.inputs],
        "counts": {
            "samples": len(samples),
            "by_split": dict(sorted(by_split.items())),
            "by_task": _plain(by_task), "by_modality": _plain(by_modality), "by_source": _plain(by_source),
            "by_task_modality": _plain(by_task_modality),
        },
        "labels": {task: {k: dict(sorted(v.items())) for k, v in sorted(per.items())}
                   for task, per in sorted(labels.items())},
        "groups": {"train": len(groups["train"]), "eval": len(groups["eval"]), "overlap": 0},
        "skipped": dict(sorted(build.skipped.items())),
        "skipped_listed": build.skipped_listed,
        "notes": build.notes,
        "audio": {k: v for k, v in audio.items() if k != "problems"},
        "audio_problems": audio["problems"],
        "tts": None if build.speaker is None else {
            "engine": build.speaker.version, "utterances": build.speaker.spoken,
            "voices": dict(sorted(build.speaker.voices_used.items()))},
        "files": files,
        "elapsed_s": round(time.monotonic() - started, 3),
    }


def _plain(table: dict[str, Counter]) -> dict[str, dict[str, int]]:
    return {k: dict(sorted(v.items())) for k, v in sorted(table.items())}
