#!/usr/bin/env python
"""Peak resident memory of the default ``llaso train`` (tiny models, the mini-corpus, all tasks,
modalities ta,at,pa) in its main process, with the heap trimmed after every step (llaso) against
the same run with trimming turned off (the baseline: what it did before).

Each side runs ``llaso train --stage instruct --max-steps N`` in its own subprocess of this
interpreter (the CLI's own code path; the baseline replaces ``trim_host_memory`` by a no-op first)
and reports ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that process, the resident size after
the last step, and the seconds per step. The mini-corpus is synthesised once (cached).

    python benchmarks/train_memory.py --steps 20
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
import llaso_core.training.loop as loop
from llaso_cli.app import app

if sys.argv[1] == "baseline":
    loop.trim_host_memory = lambda: None
last = {}

def resident_mb():
    return next(int(l.split()[1]) // 1024 for l in open("/proc/self/status") if l.startswith("VmRSS"))

real_step = loop._step
def timed_step(*args, **kwargs):
    t0 = time.perf_counter()
    out = real_step(*args, **kwargs)
    last.setdefault("seconds", []).append(time.perf_counter() - t0)
    return out
loop._step = timed_step
try:
    app(["train", "--stage", "instruct", "--max-steps", sys.argv[2], "--out", sys.argv[3]], standalone_mode=False)
finally:
    seconds = sorted(last.get("seconds", [0.0]))
    print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "end_mb": resident_mb(), "median_step_s": seconds[len(seconds) // 2]}))
"""


def measure(side: str, steps: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", CHILD, side, str(steps), out], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{side} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="instruct steps per side (default 20)")
    args = parser.parse_args()
    rows = {side: measure(side, args.steps) for side in ("baseline", "llaso")}
    print(f"{'side':10} {'peak RSS MB':>12} {'RSS at end MB':>14} {'median s/step':>14}")
    for side, row in rows.items():
        print(f"{side:10} {row['peak_mb']:>12} {row['end_mb']:>14} {row['median_step_s']:>14.3f}")
    print(f"peak RSS baseline / llaso: {rows['baseline']['peak_mb'] / rows['llaso']['peak_mb']:.2f}x "
          f"after {args.steps} steps; step time llaso / baseline: "
          f"{rows['llaso']['median_step_s'] / rows['baseline']['median_step_s']:.2f}x")


if __name__ == "__main__":
    main()
