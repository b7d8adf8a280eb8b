"""VocalSound: files named ``<f|m><speaker>_<session>_<sound>.wav`` (``f0001_0_cough.wav``) ->
VSC (the sound; ``throatclearing`` -> ``throat clearing``), SGC (f/m -> female/male) and AR fine
(the speaker's age, when the ``meta`` CSV gives it). Split group: the speaker.

Options: ``meta`` (CSV with a speaker column and an ``age`` column; relative to the input folder),
``meta_speaker_column``, ``meta_age_column`` (default: the first column named speaker, subject,
spk, speaker_id, subject_id or id; and ``age``).
"""

from __future__ import annotations

import csv
import re
from typing import Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import BuildError, RawItem, Skipped, named_files, require_dir

NAME = re.compile(r"(?P<speaker>(?P<sex>[fmFM])\d+)_(?P<session>\d+)_(?P<sound>[A-Za-z_ -]+)\.(?:wav|flac|mp3|ogg)")
SOUNDS = {"laughter": "laughter", "laugh": "laughter", "sigh": "sigh", "cough": "cough",
          "throatclearing": "throat clearing", "throat_clearing": "throat clearing",
          "throat clearing": "throat clearing", "sneeze": "sneeze", "sniff": "sniff"}
GENDERS = {"f": "female", "m": "male"}
SPEAKER_COLUMNS = ("speaker", "subject", "spk", "speaker_id", "subject_id", "id")


def read_ages(ctx: AdapterContext) -> dict[str, str]:
    """speaker id -> age (as an integer string) from the ``meta`` CSV, if given."""
    path = ctx.option_path("meta")
    if path is None:
        return {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise BuildError(f"vocalsound: cannot read meta CSV {path}: {exc.strerror or exc}") from None
    columns = {c.strip().lower(): c for c in (rows[0].keys() if rows else [])}
    speaker_col = ctx.option("meta_speaker_column") or next((columns[c] for c in SPEAKER_COLUMNS if c in columns), None)
    age_col = ctx.option("meta_age_column") or columns.get("age")
    if not speaker_col or not age_col:
        raise BuildError(f"vocalsound: {path} needs a speaker column ({', '.join(SPEAKER_COLUMNS)}) and an "
                         f"'age' column; found {', '.join(columns) or 'none'} (or set meta_speaker_column/"
                         "meta_age_column)")
    ages = {}
    for row in rows:
        speaker, age = (row.get(speaker_col) or "").strip(), (row.get(age_col) or "").strip()
        try:
            ages[speaker.lower()] = str(int(float(age)))
        except ValueError:
            continue
    return ages


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    root = require_dir(ctx.path, ctx.adapter.id)
    ages = read_ages(ctx)
    for found in named_files(root, NAME, ctx.adapter.id):
        if isinstance(found, Skipped):
            yield found
            continue
        path, match = found
        sound = SOUNDS.get(match["sound"].lower())
        if sound is None:
            yield Skipped("unknown_label", str(path), f"vocalsound: unknown sound {match['sound']!r}")
            continue
        speaker = match["speaker"].lower()
        targets = ctx.targets({"VSC": sound, "SGC": GENDERS[match["sex"].lower()], "AR": ages.get(speaker)})
        yield RawItem(id=path.stem, group=speaker, audio=path, targets=targets,
                      metadata={"speaker_id": speaker, "session": match["session"],
                                "file": path.relative_to(root).as_posix()})
