"""What the release benchmarks write: LLaSO-release-shaped JSON arrays of generated records, streamed
to disk one record at a time (a million records never sit in memory)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable

WORDS = ("the of and to a in that he was it his is with as had for you not be her on at by which have or "
         "from this him but all she they were my are me one their so an said them we who would been will no "
         "when there if more out up into do any your what has man could other than our some very time upon "
         "about may its only now like little then can made should did us such great before must two these "
         "see know over much down after first mister good men own never most old shall day where those came "
         "come himself way work life without go make well through being long say might how am too even "
         "nothing house again eyes thought moment seemed whole door hand young father mother night").split()


def words(rng: random.Random) -> str:
    """A transcript-like line of 8-40 common words."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))


def write_records(path: Path, count: int, record: Callable[[int, random.Random], dict], seed: int = 0) -> Path:
    """A JSON array of ``record(i, rng)`` for i < ``count``, one record per line."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for i in range(count):
            f.write(",\n" if i else "\n")
            f.write(json.dumps(record(i, rng), ensure_ascii=False))
        f.write("\n]\n")
    return path
