"""SRE's raw-corpus adapter (``llaso data build``): clips sorted into one folder per label,
``<root>/<slow|normal|fast>/<speaker>_<anything>.wav``. The speaker (the file name up to the first
``_``) is the split group: no speaker is in both train and eval. Imported only when a build uses it."""

from __future__ import annotations

from typing import Iterator

from llaso_core.data.build import AdapterContext, RawItem, Skipped
from llaso_core.data.build.items import AUDIO_EXTS, require_dir

LABELS = ("slow", "normal", "fast")


def iter_items(ctx: AdapterContext) -> Iterator[RawItem | Skipped]:
    root = require_dir(ctx.path, ctx.adapter.id)
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTS):
        label = path.parent.name
        if label not in LABELS:
            yield Skipped("unknown_label", str(path), f"folder {label!r} is not one of {', '.join(LABELS)}")
            continue
        speaker = path.stem.split("_")[0]
        yield RawItem(id=f"{label}-{path.stem}", group=speaker, audio=path, targets=ctx.targets({"SRE": label}),
                      metadata={"speaker": speaker, "file": path.relative_to(root).as_posix()})
