"""Recorded judge outputs of the LLaSO release (``gpt_result/*.jsonl`` beside prediction files).

For a prediction file ``X/foo_test.json`` the released judge wrote ``X/gpt_result/foo_test.jsonl``
with one row per sample: ``file``, ``index``, ``predicted``, ``reference``, ``evaluation``.
`load_recorded` keeps them per index (the first row of a repeated index, reported);
`import_recorded` puts them into a `JudgeCache` keyed by pair (reuse by a paper-protocol judge).
"""

from __future__ import annotations

from pathlib import Path

import attrs

from llaso_core.evaluation.records import LEFT_OUT, read_records

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


@attrs.frozen
class RecordedFile:
    """The readable rows of one ``gpt_result`` file and what was repaired or left out."""

    rows: tuple[RecordedJudgment, ...]
    problems: tuple[str, ...]


def read_recorded(path: str | Path) -> RecordedFile:
    """Rows of one ``gpt_result/*.jsonl`` file in file order, read tolerantly
    (`llaso_core.evaluation.records`); a row that cannot be read is named in ``problems`` and left
    out, never the end of the run."""
    read = read_records(Path(path))
    problems = read.problems()
    rows: list[RecordedJudgment] = []
    for i, record in enumerate(read.records):
        row = record.value
        try:
            rows.append(RecordedJudgment(str(row["file"]), int(row["index"]), str(row["predicted"]),
                                         str(row["reference"]), str(row["evaluation"] or "")))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"{record.where(Path(path), i)}: not a recorded judge row ({error!r}){LEFT_OUT}")
    return RecordedFile(tuple(rows), tuple(problems))


def load_recorded(path: str | Path) -> tuple[dict[int, RecordedJudgment], list[str]]:
    """Rows of one ``gpt_result/*.jsonl`` file keyed by sample index, and the file's problems
    (a repeated index keeps its first row and is reported)."""
    read = read_recorded(path)
    problems = list(read.problems)
    rows: dict[int, RecordedJudgment] = {}
    for row in read.rows:
        if row.index in rows:
            problems.append(f"{path}: index {row.index} appears twice; the first row is used")
            continue
        rows[row.index] = row
    return rows, problems


def load_recorded_for(prediction_file: str | Path) -> tuple[dict[int, RecordedJudgment], list[str]]:
    """Recorded judgments beside ``prediction_file`` keyed by index (empty if there are none),
    and the problems of reading them."""
    path = find_recorded(prediction_file)
    return load_recorded(path) if path is not None else ({}, [])


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
                for r in read_recorded(path).rows)
        written += cache.import_recorded(rows, model=model, overwrite=overwrite)
    return written
