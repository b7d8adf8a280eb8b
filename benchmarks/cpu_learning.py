#!/usr/bin/env python
"""What a CPU recipe learns: train the tiny model with ``cpu_default()`` plus overrides, then
evaluate it on the held-out text-instruction (``ta``) queries of the closed-set tasks and pitch, and
print each task's accuracy beside its majority-class baseline (from results.json) and how many
answers were not a label of the set offered (``n_invalid``: e.g. another task's label), the pitch
MAE, and the training seconds. The quickstart's bars (issue #13): every closed-set task above its
majority baseline, speaker gender >= 0.85, pitch MAE <= 6 semitones.

    python benchmarks/cpu_learning.py --data runs/quickstart/minicorpus --name base
    python benchmarks/cpu_learning.py --data DIR --name stack4 \\
        --set '{"model": {"frame_stack": 4}, "instruct": {"epochs": 100, "max_steps": 1500}}'

``--set`` takes JSON: TrainConfig fields at the top level, ``listen``/``align``/``instruct`` for stage fields
and ``model`` for LSLMConfig fields (dicts are merged). Lines are appended to ``--log`` (JSONL).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import attrs
import cattrs

from llaso_core.data.load import DataError
from llaso_core.model.lslm import LSLMConfig
from llaso_core.training.config import TrainConfig, cpu_default
from llaso_core.training.run import train

CLOSED = ("SGC", "AC", "AR", "EIE", "ER", "SSD", "SV", "VSC", "IC", "ISC", "VC")


def merged(base: dict, changes: dict) -> dict:
    return {**base, **{k: merged(base.get(k) or {}, v) if isinstance(v, dict) else v for k, v in changes.items()}}


def configure(out: Path, data: str, changes: dict) -> TrainConfig:
    changes = dict(changes)
    stages = {name: changes.pop(name, {}) for name in ("listen", "align", "instruct")}
    model = changes.pop("model", {})
    tuples = {k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()}
    config = cpu_default(out=str(out), data=data, **tuples)
    lslm = cattrs.structure(merged(cattrs.unstructure(config.model), model), LSLMConfig)
    for name, fields in stages.items():
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        config = attrs.evolve(config, **{name: attrs.evolve(config.stage(name), **fields)})
    return attrs.evolve(config, model=lslm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a mini-corpus folder (llaso data synth --out DIR)")
    parser.add_argument("--name", required=True, help="the run's name: its folder under --out and its log line")
    parser.add_argument("--set", default="{}", help="JSON overrides of cpu_default() (see above)")
    parser.add_argument("--init", help="start from this checkpoint (e.g. a run of a task subset: a curriculum)")
    parser.add_argument("--out", type=Path, default=Path("runs/cpu_learning"), help="parent folder of the runs")
    parser.add_argument("--log", type=Path, default=Path("runs/cpu_learning/results.jsonl"),
                        help="JSONL file each run's result line is appended to")
    args = parser.parse_args()
    out = args.out / args.name
    try:
        config = configure(out, args.data, json.loads(args.set))
    except (ValueError, TypeError, cattrs.BaseValidationError) as exc:  # bad JSON, unknown or mistyped fields
        parser.error(f"--set {args.set}: {exc}")
    started = time.perf_counter()
    stages = train(config, announce=lambda m: None, init=args.init)
    seconds = time.perf_counter() - started
    scores = out / "eval"
    subprocess.run([sys.executable, "-m", "llaso_cli", "eval", "--model", stages[-1].checkpoint, "--data", args.data,
                    "--out", str(scores), "--tasks", ",".join((*CLOSED, "PP")), "--modalities", "ta"],
                   check=False, capture_output=True)
    results = json.loads((scores / "results.json").read_text())
    values, majority = results["modalities"]["ta"], results["baselines"]["modalities"]["ta"]
    row = {"name": args.name, "set": json.loads(args.set), "init": args.init, "steps": [s.steps for s in stages],
           "train_s": round(seconds)}
    for task in CLOSED:
        acc = values[task]["acc"]
        row[task] = [round(acc["value"], 3), round(majority[task]["acc"]["majority"], 3), acc["n_invalid"], acc["n"]]
    pitch = values["PP"]["mae"]
    row["PP"] = [pitch["value"], pitch["n_used"], pitch["n"]]
    row["above_majority"] = sum(row[t][0] > row[t][1] for t in CLOSED)
    print(f"{args.name}: steps {row['steps']} in {row['train_s']} s; above majority on {row['above_majority']}"
          f"/{len(CLOSED)}; SGC {row['SGC'][0]}; PP MAE {pitch['value']}")
    for task in CLOSED:
        print(f"  {task:4} acc {row[task][0]:.3f}  majority {row[task][1]:.3f}  "
              f"not a label of the set offered {row[task][2]}/{row[task][3]}")
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with open(args.log, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    try:
        main()
    except DataError as exc:  # a folder that is not a corpus, malformed records
        sys.exit(f"cpu_learning: {exc}")
