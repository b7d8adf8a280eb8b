#!/usr/bin/env python
"""What the tiny encoder can hear: train a fresh ``tiny`` encoder with one linear head per
closed-set source on mean- and max-pooled frames (no LLM), then print each task's held-out
accuracy beside its majority baseline. It separates "the audio does not carry the label for this
encoder and corpus" from "the LLM does not use what the encoder carries" (cpu_learning.py).

    llaso data synth --out /tmp/mc && python benchmarks/encoder_probe.py --data /tmp/mc --steps 2000

Every clip of the ``ta`` queries of the closed-set tasks, batches of 16, AdamW with a one-cycle
schedule at ``--lr``; ``--seed`` seeds the initialisation and the batches.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import torch
from torch import nn

from llaso_core.data.audio import AudioError, AudioPolicy, load_audio
from llaso_core.data.load import DataError, load_data
from llaso_core.loader import get_host
from llaso_core.model.encoder import pad_features
from llaso_core.training.listen import pooled
from llaso_plugins.encoders.tiny import TinyEncoder, TinyEncoderConfig

from cpu_learning import CLOSED


def clips(data: str, split: str, host) -> list[tuple[str, str, str]]:
    """(audio path, head, label) of each closed-set ``ta`` clip of ``split`` (head = task|source)."""
    samples = load_data(data, split=split, tasks=CLOSED, modalities=("ta",), host=host, announce=lambda m: None)
    out = {}
    for s in samples:
        task = host.tasks.get(s.task)
        if task.label_set(task.source(s.source).label_set).kind == "closed":
            out[str(samples.root / s.audio[0].path)] = (f"{s.task}|{s.source}", s.target.strip().lower())
    return [(path, head, label) for path, (head, label) in out.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a mini-corpus folder (llaso data synth --out DIR)")
    parser.add_argument("--steps", type=int, default=2000, help="training steps of 16 clips (default 2000)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate, one-cycle (default 2e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the initialisation and the batches")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    host = get_host()
    train, held_out = clips(args.data, "train", host), clips(args.data, "eval", host)
    if not train or not held_out:
        sys.exit(f"encoder_probe: {args.data} has no closed-set ta clips in both splits ({', '.join(CLOSED)})")
    labels = defaultdict(set)
    for _, head, label in train + held_out:
        labels[head].add(label)
    labels = {head: sorted(names) for head, names in labels.items()}
    index = {head: i for i, head in enumerate(labels)}
    encoder = TinyEncoder(TinyEncoderConfig())
    heads = nn.ModuleList(nn.Linear(2 * encoder.output_dim, len(names)) for names in labels.values())
    strict = AudioPolicy(on_problem="raise")  # every clip is read before training: a bad one stops it first
    with torch.no_grad():
        features = {path: encoder.featurizer([load_audio(path, strict).samples])[0][0]
                    for path, _, _ in train + held_out}

    def logits(batch: list[tuple[str, str, str]]) -> list[torch.Tensor]:
        x, lengths = pad_features([features[p] for p, _, _ in batch])
        clips = pooled(*encoder(x, lengths))
        return [heads[index[head]](clips[i]) for i, (_, head, _) in enumerate(batch)]

    rng = random.Random(args.seed)
    params = [*encoder.parameters(), *heads.parameters()]
    optimiser = torch.optim.AdamW(params, lr=args.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    started = time.perf_counter()
    for step in range(args.steps):
        batch = rng.sample(train, 16)
        targets = [labels[head].index(label) for _, head, label in batch]
        loss = sum(nn.functional.cross_entropy(o[None], torch.tensor([t])) for o, t in zip(logits(batch), targets))
        optimiser.zero_grad()
        (loss / len(batch)).backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        if step % 200 == 0:
            seconds = time.perf_counter() - started
            print(f"step {step}: loss {loss.item() / len(batch):.3f} ({seconds:.0f} s)", flush=True)
    encoder.eval()
    right, seen = defaultdict(list), defaultdict(list)
    with torch.no_grad():
        for i in range(0, len(held_out), 32):
            batch = held_out[i:i + 32]
            for o, (_, head, label) in zip(logits(batch), batch):
                task = head.split("|")[0]
                right[task].append(labels[head][int(o.argmax())] == label)
                seen[task].append((head, label))
    print(f"{args.steps} steps in {time.perf_counter() - started:.0f} s, {len(train)} training clips")
    for task in CLOSED:
        if task in right:
            majority = sum(max(Counter(l for h, l in seen[task] if h == head).values())
                           for head in {h for h, _ in seen[task]}) / len(seen[task])
            print(f"  {task:4} acc {np.mean(right[task]):.3f}  majority {majority:.3f}")


if __name__ == "__main__":
    try:
        main()
    except (AudioError, DataError) as exc:  # a missing or corrupt clip, a folder that is not a corpus
        sys.exit(f"encoder_probe: {exc}")
