"""A whole run: data, model, the stages (listen, align, instruct), summary. What ``llaso train`` calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import attrs
import torch

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.data.audio import AudioPolicy
from llaso_core.data.load import SampleView, load_data
from llaso_core.data.release import SkippedRecord
from llaso_core.data.sample import Sample
from llaso_core.distributed import local_device, rank, shutdown_distributed
from llaso_core.loader import PluginHost, get_host
from llaso_core.model.lslm import LSLM, build
from llaso_core.model.precision import DTYPES
from llaso_core.training.config import TrainConfig
from llaso_core.training.data import CachedFrames, DataError, DecodedClips, TrainingSet
from llaso_core.training.engine import autocast_dtype
from llaso_core.training.listen import ListeningHeads, listening
from llaso_core.training.loop import STATE_FILE, Progress, StageResult, set_trainable, train_stage

PROBLEM_LOG = "problems.jsonl"  # in the run folder: one line per sample left out for its audio


#: Samples a fresh tokenizer is trained on (evenly spread over the data): enough to cover the
#: vocabulary of templates and labels, bounded for releases of millions of samples.
TOKENIZER_SAMPLES = 20_000


def load_samples(config: TrainConfig, host: PluginHost, split: str = "train",
                 announce: Callable[[str], None] = print,
                 skipped: list[SkippedRecord] | None = None, repaired: list[str] | None = None) -> SampleView:
    """The run's samples of ``split`` (``data.load.load_data`` with the config's data, tasks,
    modalities and mini-corpus settings); ``.root`` is where their audio paths start. Malformed
    records follow ``config.bad_records``: "skip" announces them, appends them to ``skipped`` and
    leaves them out; "fail" raises on the first (naming file and record). Release files read after
    repair are announced and appended to ``repaired``."""
    return load_data(config.data, split=split, tasks=config.tasks, modalities=config.modalities, host=host,
                     announce=announce, seed=config.seed, minicorpus_per_task=config.minicorpus_per_task,
                     on_error="raise" if config.bad_records == "fail" else "skip", skipped=skipped,
                     repaired=repaired)


def train(config: TrainConfig, *, host: PluginHost | None = None, progress: Progress | None = None,
          announce: Callable[[str], None] = print, init: str | None = None) -> list[StageResult]:
    """Run the configured stages; each stage's final checkpoint is ``<out>/<stage>/final``."""
    host = host or get_host()
    local_device()  # this rank's GPU is the current one before any CUDA work
    torch.manual_seed(config.seed)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    # each stage's tasks and weights by task id: an unknown id or group fails here, before any training
    chosen = {name: None if config.stage(name).tasks is None else
              {host.tasks.get(t).id for t in config.stage(name).tasks} for name in config.stages}
    weights = {name: task_weights(config.stage(name).task_weights, host) for name in config.stages}
    samples = load_samples(config, host, announce=announce)
    if not samples:
        raise DataError(f"--data {config.data or 'mini-corpus'}: no training samples of tasks "
                        f"{', '.join(config.tasks)} in modalities {', '.join(config.modalities)}")
    model = LSLM.from_pretrained(init, host) if init else build(
        config.model, host, texts=tokenizer_texts(samples.spread(TOKENIZER_SAMPLES), host))
    if config.save_init and rank() == 0:
        model.save_pretrained(out / "init", dtype=DTYPES[config.checkpoint_dtype])
    results = []
    problem_log = out / PROBLEM_LOG
    for index, stage in enumerate(config.stages):
        stage_samples = samples.select(task=chosen[stage])
        if chosen[stage] is not None and not stage_samples:  # e.g. the CPU preset's listening tasks, left out
            announce(f"stage {stage}: none of its tasks ({', '.join(config.stage(stage).tasks or ())}) is in "
                     f"this run; it trains on all the run's tasks")
            stage_samples = samples
        objective = None
        if stage == "listen":
            plan = listening(stage_samples, host)
            if not plan.targets:
                announce("stage listen: no sample with one clip and a closed-set or numeric answer; skipped")
                continue
            stage_samples, objective = plan.samples, ListeningHeads(model.encoder, plan)
        refuse_stale_stages(out, stage, config.stages[index + 1:])
        stage_samples = stage_samples.weighted(weights[stage], seed=config.seed)
        if not stage_samples:
            raise DataError(f"stage {stage}: every task of the stage has weight 0")
        # the stage's compute plan first: a feature cache fingerprints the frozen encoder as it will run
        set_trainable(model, config.stage(stage).trainable, autocast_dtype(config.precision, local_device()))
        dataset = make_dataset(config, model, stage_samples, problem_log, announce)
        heads = f", {len(objective.heads)} label-set heads" if objective is not None else ""
        announce(f"stage {stage}: {len(stage_samples)} samples, trainable "
                 f"{', '.join(config.stage(stage).trainable)}{heads}")
        results.append(train_stage(model, dataset, config, stage, out / stage, progress=progress, announce=announce,
                                   objective=objective))
    if rank() == 0:
        write_summary(out / "summary.json", results)
    dropped = sum(r.dropped_samples for r in results)
    left_out, altered = _problems(problem_log)
    if dropped:
        announce(f"audio problems: {len(left_out)} sample(s) left out for unusable audio, {dropped} time(s) over the "
                 f"stages, epochs and task weights; each is named in {problem_log}")
    if altered:
        announce(f"audio altered: {altered} clip load(s) changed by the length policy (cut to 30 s), trained on "
                 f"as changed; each is named in {problem_log}")
    shutdown_distributed()
    return results


def refuse_stale_stages(out: Path, stage: str, later: Iterable[str]) -> None:
    """``stage`` is about to train (it is not complete in ``out``): a later stage that already holds a
    checkpoint grew from another model than the one this run will hand it, so it is refused, not kept."""
    if (out / stage / "final").exists():
        return
    for name in later:
        if (out / name / STATE_FILE).exists():
            raise DataError(f"{out / name}: stage {name} was trained before stage {stage}, so it would not "
                            f"follow from it; remove that folder (or use another --out) to train it again")


def task_weights(weights: dict[str, float], host: PluginHost) -> dict[str, float]:
    """Weights by task id: a key is a task id (or alias) or ``*open`` / ``*closed`` / ``*numeric``,
    the tasks whose label sets are all open-ended / all numeric / otherwise; a task's own key wins."""
    kinds: dict[str, str] = {}
    for task in host.tasks:
        found = {ls.kind for ls in task.label_sets}
        kinds[task.id] = found.pop() if len(found) == 1 and found <= {"open", "numeric"} else "closed"
    out: dict[str, float] = {}
    for key, weight in weights.items():
        if key.startswith("*"):
            if key[1:] not in ("open", "closed", "numeric"):
                raise DataError(f"task weight {key!r}: groups are *open, *closed and *numeric")
            out.update({t: weight for t, kind in kinds.items() if kind == key[1:] and t not in out})
    out.update({host.tasks.get(key).id: weight for key, weight in weights.items() if not key.startswith("*")})
    return out


def _problems(problem_log: Path) -> tuple[set[str], int]:
    """The samples the problem log names as left out, and how many clip loads it names as altered
    (kept, but changed by the length policy)."""
    rows = [json.loads(line) for line in problem_log.read_text().splitlines() if line] if problem_log.exists() else []
    return {r["sample_id"] for r in rows if r.get("kind") != "altered"}, sum(r.get("kind") == "altered" for r in rows)


def write_summary(path: Path, results: list[StageResult]) -> None:
    """``summary.json``: the stages run now, and those of an earlier call into the same folder that
    were not run again (e.g. align, before a separate ``--stage instruct``)."""
    kept = json.loads(path.read_text()) if path.exists() else []
    now = {r.stage for r in results}
    rows = [row for row in kept if row.get("stage") not in now] + [attrs.asdict(r) for r in results]
    path.write_text(json.dumps(rows, indent=2) + "\n")


def make_dataset(config: TrainConfig, model: LSLM, samples: SampleView, problem_log: Path | None,
                 announce: Callable[[str], None]) -> TrainingSet:
    """Audio decoded on the fly, or (``feature_cache``) the frozen encoder's cached frames, encoding
    any clip not cached yet once (each rank its share). Lengths come from ``samples.lengths()``."""
    common = dict(tokenizer=model.tokenizer, featurizer=model.encoder.featurizer, frame_stack=model.projector.stack,
                  audio_token_id=model.audio_token_id, max_length=config.max_length, lengths=samples.lengths(),
                  problem_log=problem_log)
    if config.feature_cache is None:
        return TrainingSet(samples, samples.root, audio=DecodedClips(AudioPolicy(on_long=config.long_audio)),
                           **common)
    from llaso_core.training.features import cache_for_model, sample_audio_paths

    tuned = [s for s in config.stages if "encoder" in config.stage(s).trainable]
    if tuned:
        raise DataError(f"a feature cache needs a frozen encoder, but stage(s) {', '.join(tuned)} train it; run "
                        "those without the cache (--freeze-encoder freezes it in the instruct stage)")
    cache = cache_for_model(config.feature_cache, model)
    report = cache.build(model.encoder, sample_audio_paths(samples, samples.root), encoder_id=config.model.encoder)
    announce(f"feature cache {cache.folder}: {report.clips} clips encoded now, {report.already} cached, "
             f"{report.problems} unreadable")
    return TrainingSet(samples, samples.root, audio=CachedFrames(cache), **common)


def tokenizer_texts(samples: Iterable[Sample], host: PluginHost, chat: ChatTemplate = LLASO_CHAT) -> list[str]:
    """What a freshly trained tokenizer should cover: the system prompt (once per sample, so it
    compresses as often as it is seen), targets, instructions, all templates and labels."""
    samples = list(samples)
    texts = [chat.system] * len(samples) + [s.target for s in samples]
    texts += [seg.text for s in samples for seg in s.query.segments if hasattr(seg, "text")]
    for task in host.tasks:
        texts += [t.text for t in task.templates.templates]
        texts += [label for ls in task.label_sets for label in ls.labels]
    return texts
