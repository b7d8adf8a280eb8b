"""CREMA-D: files named ``<actor>_<sentence>_<emotion>_<intensity>.wav`` (``1001_DFA_ANG_XX.wav``)
-> ER (ANG/DIS/FEA/HAP/NEU/SAD -> anger, disgust, fear, happiness, neutrality, sadness) and EIE
(LO/MD/HI/XX -> low, medium, high, unspecified). Split group: the actor.
"""

from __future__ import annotations

import re
from typing import Iterator

from llaso_core.data.build.adapter import AdapterContext
from llaso_core.data.build.items import RawItem, Skipped, named_files, require_dir

NAME = re.compile(r"(?P<actor>\d+)_(?P<sentence>[A-Z]+)_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})\.(?:wav|flac|mp3|ogg)")
EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutrality", "SAD": "sadness"}
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    root = require_dir(ctx.path, ctx.adapter.id)
    for found in named_files(root, NAME, ctx.adapter.id):
        if isinstance(found, Skipped):
            yield found
            continue
        path, match = found
        emotion, level = EMOTIONS.get(match["emotion"]), INTENSITIES.get(match["level"])
        if emotion is None and level is None:
            yield Skipped("unknown_label", str(path), f"crema-d: unknown codes {match['emotion']}/{match['level']}")
            continue
        yield RawItem(id=path.stem, group=match["actor"], audio=path,
                      targets=ctx.targets({"ER": emotion, "EIE": level}),
                      metadata={"actor": match["actor"], "sentence": match["sentence"],
                                "file": path.relative_to(root).as_posix()})
