#!/usr/bin/env python
"""Cost of the tolerant fallback of release ingestion against the streaming fast path.

Writes two LLaSO-like JSON lists of ``--samples`` ASR records into a temporary folder: a clean one
(the baseline: ijson streams it) and the same with a raw tab inside a string of the last record
(ijson stops there, and ``llaso_core.data.release.iter_records`` reads the file again with the
scorer's tolerant reader). Each is read by ``iter_records`` in a fresh subprocess; prints the
records read, peak RSS (``ru_maxrss``) and seconds of each, and the ratios fallback / stream.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORD = {"voice": ["librispeech\\train-clean-100\\103\\1240\\103-1240-0000.flac"],
          "conversations": [{"from": "human", "value": "Please transcribe the following audio clip into text.<audio>"},
                            {"from": "gpt", "value": "chapter sixteen i might have told you of the beginning of "
                                                     "this liaison in a few lines"}]}


def measure(path: Path) -> None:
    """In the child: read ``path`` and print records, peak RSS MiB and seconds as JSON."""
    sys.path.insert(0, str(REPO_ROOT))
    from llaso_core.data.release import iter_records

    started = time.perf_counter()
    records = sum(1 for _ in iter_records(path, skipped=[], repaired=[]))
    print(json.dumps({"records": records, "seconds": time.perf_counter() - started,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.child)
    line = json.dumps(RECORD)
    broken = line.replace("chapter sixteen", "chapter\tsixteen")  # a raw control character in a string
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, last in (("stream (clean file)", line), ("fallback (raw tab)", broken)):
            path = Path(tmp) / f"{len(runs)}.json"
            path.write_text("[" + ",\n".join([line] * (args.samples - 1) + [last]) + "]", encoding="utf-8")
            done = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                  check=True)
            runs[name] = {**json.loads(done.stdout), "file_mib": path.stat().st_size / 2**20}
    print(f"{'':22}{'records':>9}{'file MiB':>10}{'peak RSS MiB':>14}{'x file':>8}{'seconds':>9}")
    for name, r in runs.items():
        print(f"{name:22}{r['records']:>9,}{r['file_mib']:>10.1f}{r['peak_mib']:>14.1f}"
              f"{r['peak_mib'] / r['file_mib']:>8.2f}{r['seconds']:>9.2f}")
    stream, fallback = runs.values()
    print(f"fallback / stream: peak RSS {fallback['peak_mib'] / stream['peak_mib']:.1f}x, "
          f"time {fallback['seconds'] / stream['seconds']:.1f}x")


if __name__ == "__main__":
    main()
