"""A whole run: data, model, both stages, summary. What ``llaso train`` calls."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import attrs
import torch

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.data.audio import AudioPolicy, validate_audio
from llaso_core.data.release import SkippedRecord
from llaso_core.data.sample import Sample
from llaso_core.distributed import shutdown_distributed
from llaso_core.loader import PluginHost, get_host
from llaso_core.model.lslm import LSLM, build
from llaso_core.training.config import TrainConfig
from llaso_core.training.data import DataError, TrainingSet
from llaso_core.training.loop import Progress, StageResult, train_stage


def minicorpus_dir(config: TrainConfig) -> Path:
    root = Path(os.environ.get("LLASO_CACHE_DIR", Path.home() / ".cache" / "llaso"))
    return root / "minicorpus" / f"seed{config.seed}-n{config.minicorpus_per_task}"


def load_samples(config: TrainConfig, host: PluginHost, split: str = "train",
                 announce: Callable[[str], None] = print,
                 skipped: list[SkippedRecord] | None = None, repaired: list[str] | None = None
                 ) -> tuple[list[Sample], Path]:
    """The run's samples of ``split`` and the folder their audio paths are relative to. With no
    ``data`` the offline mini-corpus is synthesised (once; cached). Malformed records follow
    ``config.bad_records``: "skip" announces them, appends them to ``skipped`` and leaves them out;
    "fail" raises on the first (naming file and record). Release files read after repair are
    announced and appended to ``repaired``."""
    from llaso_core.data.store import read_samples

    if config.data is None:
        from llaso_core.data.synth.corpus import synthesize_corpus

        root = minicorpus_dir(config)
        announce(f"no --data given: using the offline mini-corpus in {root}")
        synthesize_corpus(root, per_task=config.minicorpus_per_task, seed=config.seed)
    else:
        root = Path(config.data)
    unified = root / f"{split}.jsonl"
    on_error = "raise" if config.bad_records == "fail" else "skip"
    bad: list[SkippedRecord] = []
    if unified.exists():
        samples = list(read_samples(unified, on_error=on_error, skipped=bad))
    else:
        from llaso_core.data.release import load_release, split_of

        result = load_release(root, host=host, on_error=on_error)
        samples = [s for s in result if s.split == split]
        bad = [b for b in result.skipped if split_of(b.path, "train") == split]
        for note in result.repaired:
            announce(f"repaired: {note}")
        (repaired if repaired is not None else []).extend(result.repaired)
    if bad:
        announce(f"{len(bad)} malformed record(s) left out (--bad-records fail stops instead):")
        for record in bad[:5]:
            announce(f"  {record.message}")
        if len(bad) > 5:
            announce(f"  ... and {len(bad) - 5} more")
        if skipped is not None:
            skipped.extend(bad)
    return select(samples, config, host), root


def select(samples: list[Sample], config: TrainConfig, host: PluginHost) -> list[Sample]:
    tasks = resolve_tasks(config.tasks, host)
    for modality in config.modalities:
        host.modalities.get(modality)  # unknown modality: a clear error with a did-you-mean
    return [s for s in samples if s.task in tasks and s.modality in config.modalities]


def resolve_tasks(names: tuple[str, ...], host: PluginHost) -> set[str]:
    if "all" in names:
        return {t.id for t in host.tasks}
    return {host.tasks.get(name).id for name in names}


def drop_broken_audio(samples: list[Sample], root: Path, announce: Callable[[str], None]) -> list[Sample]:
    """Check every audio header once; samples with missing/corrupt/empty audio are reported and left out."""
    items = [(root / a.path, s.id) for s in samples for a in s.audio]
    report = validate_audio(items, AudioPolicy(), workers=4, max_listed=len(items))
    bad = {p.sample_id for p in report.problems}
    if report.problem_total:
        announce(f"audio problems: {report.problem_total} file(s) unusable, their samples are skipped "
                 f"({', '.join(f'{k} {v}' for k, v in report.problem_counts.items() if v)})")
        for problem in report.problems[:5]:
            announce(f"  {problem.kind}: {problem.path} (sample {problem.sample_id}) {problem.detail}")
    for clip in report.altered[:5]:  # the length policy (AudioPolicy: cut to max_seconds) named, never silent
        announce(f"audio altered: {clip['path']} (sample {clip['sample_id']}) {clip['detail']}")
    return [s for s in samples if s.id not in bad]


def train(config: TrainConfig, *, host: PluginHost | None = None, progress: Progress | None = None,
          announce: Callable[[str], None] = print, init: str | None = None) -> list[StageResult]:
    """Run the configured stages; each stage's final checkpoint is ``<out>/<stage>/final``."""
    host = host or get_host()
    torch.manual_seed(config.seed)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    samples, root = load_samples(config, host, announce=announce)
    samples = drop_broken_audio(samples, root, announce)
    if not samples:
        raise DataError(f"no training samples for tasks {config.tasks} and modalities {config.modalities}")
    model = LSLM.from_pretrained(init, host) if init else build(
        config.model, host, texts=tokenizer_texts(samples, host))
    if config.save_init:
        model.save_pretrained(out / "init")
    results = []
    for stage in config.stages:
        wanted = config.stage(stage).tasks
        stage_samples = [s for s in samples if wanted is None or s.task in set(wanted)]
        if not stage_samples:
            raise DataError(f"stage {stage}: no samples of tasks {wanted} in the data")
        dataset = make_dataset(config, model, stage_samples, root, announce)
        announce(f"stage {stage}: {len(stage_samples)} samples, trainable {', '.join(config.stage(stage).trainable)}")
        results.append(train_stage(model, dataset, config, stage, out / stage, progress=progress))
    (out / "summary.json").write_text(json.dumps([attrs.asdict(r) for r in results], indent=2) + "\n")
    shutdown_distributed()
    return results


def make_dataset(config: TrainConfig, model: LSLM, samples: list[Sample], root: Path,
                 announce: Callable[[str], None]):
    """Audio decoded on the fly, or (``feature_cache``) the frozen encoder's cached frames, encoding
    any clip not cached yet once."""
    common = dict(tokenizer=model.tokenizer, frame_stack=model.projector.stack,
                  audio_token_id=model.audio_token_id, max_length=config.max_length)
    if config.feature_cache is None:
        return TrainingSet(samples, root, featurizer=model.encoder.featurizer, **common)
    from llaso_core.training.features import CachedTrainingSet, cache_for_model, sample_audio_paths

    if any("encoder" in config.stage(s).trainable for s in config.stages):
        raise DataError("a feature cache needs a frozen encoder; drop 'encoder' from the stages' trainable parts "
                        "(--freeze-encoder)")
    cache = cache_for_model(config.feature_cache, model)
    report = cache.build(model.encoder, sample_audio_paths(samples, root), encoder_id=config.model.encoder)
    announce(f"feature cache {cache.folder}: {report.clips} clips encoded now, {report.already} cached, "
             f"{report.problems} unreadable")
    return CachedTrainingSet(samples, root, cache, **common)


def tokenizer_texts(samples: list[Sample], host: PluginHost, chat: ChatTemplate = LLASO_CHAT) -> list[str]:
    """What a freshly trained tokenizer should cover: the system prompt (once per sample, so it
    compresses as often as it is seen), targets, instructions, all templates and labels."""
    texts = [chat.system] * len(samples) + [s.target for s in samples]
    texts += [seg.text for s in samples for seg in s.query.segments if hasattr(seg, "text")]
    for task in host.tasks:
        texts += [t.text for t in task.templates.templates]
        texts += [label for ls in task.label_sets for label in ls.labels]
    return texts
