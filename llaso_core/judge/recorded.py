"""Recorded judge outputs of the LLaSO release (``gpt_result/*.jsonl`` beside prediction files).

For a prediction file ``X/foo_test.json`` the released judge wrote ``X/gpt_result/foo_test.jsonl``
with one row per sample: ``file``, ``index``, ``predicted``, ``reference``, ``evaluation``.
`load_recorded` keeps them per index (exact reproduction, duplicates included);
`import_recorded` puts them into a `JudgeCache` keyed by pair (reuse by a paper-protocol judge).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import attrs

from .cache import RECORDED_MODEL, JudgeCache, recorded_judgment
from .types import Judgment

RECORDED_DIR = "gpt_result"


@attrs.frozen
class RecordedJudgment:
    """One row of a released ``gpt_result`` file, with its parsed `Judgment`."""

    file: str
    index: int
    predicted: str
    reference: str
    evaluation: str

    @property
    def judgment(self) -> Judgment:
        """The row as a `Judgment` with source ``recorded``."""
        return recorded_judgment(self.evaluation)


def recorded_path(prediction_file: str | Path) -> Path:
    """Where the recorded judgments of ``prediction_file`` would be (``X/gpt_result/<stem>.jsonl``)."""
    path = Path(prediction_file)
    return path.parent / RECORDED_DIR / f"{path.stem}.jsonl"


def find_recorded(prediction_file: str | Path) -> Path | None:
    """`recorded_path` of ``prediction_file`` if that file exists, else ``None``."""
    path = recorded_path(prediction_file)
    return path if path.is_file() else None


def iter_recorded(path: str | Path) -> Iterator[RecordedJudgment]:
    """Rows of one ``gpt_result/*.jsonl`` file, in file order (blank lines skipped)."""
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield RecordedJudgment(str(row["file"]), int(row["index"]), row["predicted"],
                                       row["reference"], row["evaluation"])
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{line_no}: not a recorded judge row ({error})") from error


def load_recorded(path: str | Path) -> dict[int, RecordedJudgment]:
    """Rows of one ``gpt_result/*.jsonl`` file keyed by sample index (a repeated index is an error)."""
    rows: dict[int, RecordedJudgment] = {}
    for row in iter_recorded(path):
        if row.index in rows:
            raise ValueError(f"{path}: index {row.index} appears twice")
        rows[row.index] = row
    return rows


def load_recorded_for(prediction_file: str | Path) -> dict[int, RecordedJudgment] | None:
    """Recorded judgments beside ``prediction_file`` keyed by index, or ``None`` if there are none."""
    path = find_recorded(prediction_file)
    return load_recorded(path) if path is not None else None


def import_recorded(
    cache: JudgeCache,
    source: str | Path,
    *,
    model: str = RECORDED_MODEL,
    overwrite: bool = False,
) -> int:
    """Import recorded judgments into ``cache``; return the number of rows written.

    ``source`` is a ``gpt_result/*.jsonl`` file, a ``gpt_result`` folder (all its ``.jsonl``),
    or a prediction file / folder that has a ``gpt_result`` beside or inside it.
    """
    source = Path(source)
    if source.is_dir():
        folder = source if source.name == RECORDED_DIR else source / RECORDED_DIR
        files = sorted(folder.glob("*.jsonl"))
    elif source.suffix == ".jsonl" and source.parent.name == RECORDED_DIR:
        files = [source]
    else:
        found = find_recorded(source)
        files = [found] if found is not None else []
    written = 0
    for path in files:
        rows = ({"predicted": r.predicted, "reference": r.reference, "evaluation": r.evaluation}
                for r in iter_recorded(path))
        written += cache.import_recorded(rows, model=model, overwrite=overwrite)
    return written
