#!/usr/bin/env python
"""Peak memory of indexing a LLaSO-Align-sized JSON list, against ``json.load`` of the same file.

LLaSO-Align is about 12M ASR samples in one JSON list (``text_audio/ASR_stage1_train.json``). This
script writes an Align-like file of ``--samples`` records (default 1,000,000; streamed, never held
in memory) into a temporary folder, then measures in separate subprocesses of this interpreter:

- ``index``: ``llaso_core.data.index.open_index`` building the Arrow index (ijson streaming;
  peak RSS taken right after the build), then opening it again from the cache and reading
  10,000 samples at random positions (resident memory split into heap and mapped file pages);
- ``imports``: the same imports and plugin loading, no indexing (the floor of the index side);
- ``json.load``: the baseline, ``json.load`` of the whole file (what the reference code and
  ``data_merge.py`` do).

Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of each subprocess. Prints a table and
the ratio json.load / index. ``--keep DIR`` keeps the files in DIR.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from release_records import words, write_records

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = [f"Please transcribe the following audio clip into text ({i}).<audio>" for i in range(18)]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_parts_mib() -> dict:
    """Current anonymous (heap) and file-backed (memory-mapped) resident memory."""
    parts = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            key, value = line.split(":")
            parts[key] = int(value.split()[0]) / 1024
    return parts


def generate(path: Path, n: int, seed: int = 0) -> None:
    def record(i: int, rng) -> dict:
        text = words(rng)
        speaker, book = rng.randint(1, 5000), rng.randint(1, 20000)
        return {"index": i, "speaker_id": str(speaker), "book_id": str(book),
                "voice": [f"mls_english\\train\\audio\\{speaker}\\{book}\\{speaker}_{book}_{i:06d}.flac"],
                "conversations": [{"from": "human", "value": TEMPLATES[i % len(TEMPLATES)]},
                                  {"from": "gpt", "value": text}]}
    write_records(path, n, record, seed)


def run_index(path: Path, cache: Path) -> dict:
    from llaso_core.data.index import open_index
    from llaso_core.loader import get_host

    get_host()
    t0 = time.perf_counter()
    index = open_index(path, path.parent.parent, cache)
    build_s = time.perf_counter() - t0
    build_peak = peak_rss_mib()
    assert index.built
    t0 = time.perf_counter()
    again = open_index(path, path.parent.parent, cache)
    reopen_s = time.perf_counter() - t0
    assert not again.built and len(again) == len(index)
    rng = random.Random(1)
    positions = [rng.randrange(len(again)) for _ in range(10_000)]
    t0 = time.perf_counter()
    for i in positions:
        again[i]
    access_us = (time.perf_counter() - t0) / len(positions) * 1e6
    size = sum(p.stat().st_size for p in again.paths)
    return {"rows": len(index), "build_s": build_s, "reopen_s": reopen_s, "random_access_us": access_us,
            "index_bytes": size, "peak_rss_mib": build_peak, "after_access": rss_parts_mib(),
            "peak_after_access_mib": peak_rss_mib()}


def run_imports() -> dict:
    import llaso_core.data.index  # noqa: F401
    import pyarrow  # noqa: F401
    import ijson  # noqa: F401
    from llaso_core.loader import get_host

    get_host()
    return {"peak_rss_mib": peak_rss_mib()}


def run_json_load(path: Path) -> dict:
    t0 = time.perf_counter()
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    return {"rows": len(records), "load_s": time.perf_counter() - t0, "peak_rss_mib": peak_rss_mib()}


def child(mode: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, *args], capture_output=True, text=True,
                         cwd=REPO_ROOT)
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated file and index in this folder")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        result = {"index": lambda: run_index(Path(rest[0]), Path(rest[1])), "imports": run_imports,
                  "json": lambda: run_json_load(Path(rest[0]))}[mode]()
        print(json.dumps(result))
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="llaso-index-bench-"))
    try:
        path = work / "text_audio" / "ASR_stage1_train.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        generate(path, args.samples)
        gen_s = time.perf_counter() - t0
        file_mib = path.stat().st_size / 2**20
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        index = child("index", str(path), str(cache))
        floor = child("imports")
        base = child("json", str(path))
        assert index["rows"] == base["rows"] == args.samples

        print(f"file: {args.samples:,} records, {file_mib:,.1f} MiB (written in {gen_s:.1f} s)")
        print(f"{'':<28}{'peak RSS MiB':>14}{'x file size':>13}{'seconds':>10}")
        rows = [("index build", index["peak_rss_mib"], index["build_s"]),
                ("  imports only (floor)", floor["peak_rss_mib"], None),
                ("json.load baseline", base["peak_rss_mib"], base["load_s"])]
        for name, rss, secs in rows:
            print(f"{name:<28}{rss:>14,.1f}{rss / file_mib:>13.2f}{'' if secs is None else f'{secs:.1f}':>10}")
        print(f"index build: {args.samples / index['build_s']:,.0f} records/s; index file "
              f"{index['index_bytes'] / 2**20:,.1f} MiB; reopen from cache {index['reopen_s'] * 1e3:.1f} ms; "
              f"random access {index['random_access_us']:.0f} us/sample")
        parts = index["after_access"]
        print(f"after 10,000 random reads of the reopened index: RssAnon {parts.get('RssAnon', 0):,.1f} MiB, "
              f"RssFile (shared libraries + mapped index pages) {parts.get('RssFile', 0):,.1f} MiB, "
              f"peak {index['peak_after_access_mib']:,.1f} MiB")
        print(f"ratio json.load / index peak RSS: {base['peak_rss_mib'] / index['peak_rss_mib']:.1f}x; "
              f"index build above its import floor: {index['peak_rss_mib'] - floor['peak_rss_mib']:,.1f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
