"""``llaso eval``: generate answers for an evaluation set, then score them like ``llaso score``.

Predictions are appended to ``predictions.jsonl`` after every batch (flushed and fsynced): a run
killed at any point and started again skips what is there (a torn last line is dropped), so no
sample is answered twice or lost. Under torchrun each rank answers its shard into its own file and
rank 0 merges them. Any model plugin answers (:class:`~llaso_core.models.SpeechModel`); a sample it
could not answer goes to ``unanswered.jsonl`` instead (never scored, asked again on the next run).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable

from llaso_core import distributed
from llaso_core.data.audio import AudioPolicy, AudioProblem, AudioReport, load_clip
from llaso_core.data.release import SkippedRecord
from llaso_core.data.sample import Sample
from llaso_core.evaluation.records import LEFT_OUT
from llaso_core.loader import PluginHost
from llaso_core.models.base import Answer, GenerationOptions, Request, SpeechModel

PREDICTIONS = "predictions.jsonl"
UNANSWERED = "unanswered.jsonl"


def prediction_row(sample: Sample, prediction: str | None, error: str | None = None) -> dict[str, Any]:
    """A row of llaso's prediction format (what ``llaso score --format llaso`` reads)."""
    record = sample.to_llaso()
    row = {"id": sample.id, "task": sample.task, "source": sample.source, "modality": sample.modality,
           "reference": sample.target, "prediction": prediction,
           "human_turn": record["conversations"][0]["value"], "voice": record["voice"],
           "template_id": sample.template_id}
    if error:
        row["error"] = error
    return row


def read_done(path: Path) -> dict[str, dict[str, Any]]:
    """Rows already written, by sample id; a torn last line (a killed writer) is cut off the file."""
    if not path.exists():
        return {}
    rows: dict[str, dict[str, Any]] = {}
    good = 0
    with open(path, "rb") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            if not line.endswith(b"\n"):
                break
            rows.setdefault(row["id"], row)
            good += len(line)
    if good != path.stat().st_size:
        with open(path, "r+b") as handle:
            handle.truncate(good)
    return rows


class PredictionWriter:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "a", encoding="utf-8")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        self.handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def split_by_modality(samples: list[Sample], model: SpeechModel) -> tuple[list[Sample], dict[str, int]]:
    """The samples ``model`` can take, and how many of each modality it cannot (not evaluated)."""
    kept, skipped = [], {}
    for s in samples:
        if s.modality in model.modalities:
            kept.append(s)
        else:
            skipped[s.modality] = skipped.get(s.modality, 0) + 1
    return kept, skipped


def generate_predictions(model: SpeechModel, samples: list[Sample], root: Path, out: Path, host: PluginHost, *,
                         options: GenerationOptions = GenerationOptions(),
                         progress: Callable[[int, int], None] | None = None,
                         audio_policy: AudioPolicy = AudioPolicy()) -> tuple[Path, AudioReport]:
    """Answer every sample not yet in ``out/predictions.jsonl`` (this rank's shard under torchrun).
    A sample with unusable audio gets no prediction and an ``error`` naming the file and the
    problem; one whose audio the length policy cut says so under ``audio_altered``; what the model
    could not answer goes to ``unanswered*.jsonl`` (see :func:`unanswered`)."""
    rank, world = distributed.rank(), distributed.world_size()
    path = out / (PREDICTIONS if world == 1 else f"predictions.rank{rank}.jsonl")
    left_path = out / (UNANSWERED if world == 1 else f"unanswered.rank{rank}.jsonl")
    done = read_done(path)
    todo = [s for s in samples[rank::world] if s.id not in done]
    report = AudioReport(max_listed=sum(len(s.audio) for s in todo))
    writer = PredictionWriter(path)
    left_path.unlink(missing_ok=True)  # this run asks them again
    left = PredictionWriter(left_path)
    by_id = {s.id: s for s in todo}
    requests, failed, altered = [], [], {}
    for s in todo:
        clips = [load_clip(root / a.path, audio_policy, sample_id=s.id, report=report) for a in s.audio]
        problems = [c for c in clips if isinstance(c, AudioProblem)]
        if problems:
            failed.append(prediction_row(s, None, error="; ".join(p.message for p in problems)))
            continue
        notes = [f"{c.path}: {c.alteration}" for c in clips if c.alteration]
        if notes:
            altered[s.id] = notes
        budget = host.tasks.get(s.task).max_new_tokens if s.task in host.tasks else 64
        requests.append(Request(s.id, s.query, tuple(c.samples for c in clips), budget))
    writer.write(failed)
    total, finished = len(samples[rank::world]), len(done) + len(failed)

    def on_batch(batch: list[Request], answers: list[Answer]) -> None:
        nonlocal finished
        writer.write({**prediction_row(by_id[r.id], a.text),
                      **({"audio_altered": altered[r.id]} if r.id in altered else {})}
                     for r, a in zip(batch, answers) if a.ok)
        left.write({"id": r.id, "task": by_id[r.id].task, "modality": by_id[r.id].modality, "error": a.error}
                   for r, a in zip(batch, answers) if not a.ok)
        finished += len(batch)
        if progress:
            progress(finished, total)

    try:
        if progress:
            progress(finished, total)
        model.answer_all(requests, options, on_batch=on_batch)
    finally:
        writer.close()
        left.close()
    return path, report


def input_problems(predictions: Path, skipped: list[SkippedRecord]) -> dict[str, Any]:
    """What the run's inputs lost or changed, from ``predictions.jsonl`` (so a resumed run counts
    earlier invocations too) and the malformed records left out: counts and one line per item."""
    rows = read_done(predictions).values()
    unusable = [f"sample {r['id']}: no prediction: {r['error']}" for r in rows if r.get("error")]
    altered = [f"sample {r['id']}: audio {note}" for r in rows for note in r.get("audio_altered", ())]
    bad = [f"record {s.message}{LEFT_OUT}" for s in skipped]
    return {"counts": {"unusable_audio_samples": len(unusable), "altered_audio_clips": len(altered),
                       "malformed_records": len(bad)},
            "lines": bad + unusable + altered}


def unanswered(out: Path) -> list[dict[str, Any]]:
    """The samples the model left unanswered in this run (every rank's file)."""
    return [row for path in sorted(out.glob("unanswered*.jsonl")) for row in read_done(path).values()]


def annotate_results(out: Path, **facts: Any) -> None:
    """Add ``facts`` (the model, modalities not evaluated, unanswered samples) to ``out/results.json``."""
    path = out / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    results.update(facts)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


def wait_for_ranks() -> bool:
    """Under torchrun, wait until every rank has answered its shard; True on the rank that merges
    and scores (rank 0), and always True in a single process."""
    if distributed.world_size() == 1:
        return True
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")  # only a barrier is needed, whatever the devices
    rank = dist.get_rank()
    distributed.shutdown_distributed()  # the barrier, then a clean exit for the ranks that stop here
    return rank == 0


def merge_shards(out: Path) -> Path:
    """Rank files -> one predictions.jsonl (rank 0, after all ranks finished)."""
    target = out / PREDICTIONS
    rows = read_done(target)
    for shard in sorted(out.glob("predictions.rank*.jsonl")):
        for key, row in read_done(shard).items():
            rows.setdefault(key, row)
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.values()), encoding="utf-8")
    tmp.replace(target)
    return target


def export_predictions(predictions: Path, out: Path) -> list[Path]:
    """Write predictions in the LLaSO release layout (``<stem>_test.json``, prediction under ``answer``)
    so ``llaso score`` / ``llaso report`` compare them with the published systems."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in read_done(predictions).values():
        groups.setdefault(row["source"], []).append(
            {"id": row["id"], "voice": row["voice"],
             "conversations": [{"from": "human", "value": row["human_turn"]},
                               {"from": "gpt", "value": row["reference"]}],
             "answer": row["prediction"]})
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source, records in sorted(groups.items()):
        path = out / f"{source}_test.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
