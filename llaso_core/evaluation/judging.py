"""Getting judge verdicts for a prediction set: recorded outputs first, then the cache, then the API."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from llaso_core.evaluation.predictions import PredictionSet
from llaso_core.judge.cache import RECORDED_MODEL
from llaso_core.judge.prompt import PROMPT_VERSION
from llaso_core.judge.recorded import load_recorded_for
from llaso_core.judge.types import Judgment, JudgeRequest


def default_cache_path() -> Path:
    root = Path(os.environ.get("LLASO_CACHE_DIR", Path.home() / ".cache" / "llaso"))
    return root / "judge.sqlite"


@attrs.frozen
class JudgeOptions:
    """``backend="none"`` never calls an API: samples with no recorded or cached verdict stay unscored."""

    backend: str = "openai"
    model: str = RECORDED_MODEL
    base_url: str | None = None
    api_key: str | None = None
    concurrency: int = 8
    cache_path: Path = attrs.field(factory=default_cache_path)
    retry_failed: bool = False
    timeout: float = 60.0  # seconds per request
    retries: int = 5  # further tries of a request after a retryable failure
    deadline: float | None = None  # seconds for all judge calls of one run; None: no limit

    def fingerprint(self, protocol: str) -> dict[str, object]:
        return {"backend": self.backend, "model": self.model, "base_url": self.base_url,
                "prompt_version": PROMPT_VERSION, "protocol": protocol}


def question_of(human_turn: str) -> str:
    """What the user asked, as the strict judge sees it (audio marked, not transcribed)."""
    return human_turn.replace("<audio>", " [audio] ").strip() or "[audio]"


def collect_judgments(pset: PredictionSet, options: JudgeOptions, protocol: str, problems: list[str], *,
                      deadline_at: float | None = None, progress=None) -> list[Judgment | None]:
    """One verdict per row (None for a row without prediction). A recorded verdict is used when
    its prediction matches the row's; the rest come from the cache or the judge API. Rows of the
    recorded file that could not be read are added to ``problems``. ``deadline_at`` (a
    ``time.monotonic()`` instant, from ``options.deadline``) bounds the judge calls."""
    recorded, recorded_problems = load_recorded_for(pset.path)
    problems.extend(recorded_problems)
    verdicts: list[Judgment | None] = []
    for row in pset.rows:
        rec = recorded.get(row.index)
        usable = rec is not None and row.prediction is not None and rec.predicted.strip() == row.prediction.strip()
        verdicts.append(rec.judgment if usable else None)
    todo = [i for i, v in enumerate(verdicts) if v is None and pset.rows[i].prediction is not None]
    if todo:
        from llaso_core.judge.client import Judge  # imports openai: only when a verdict is missing

        requests = [JudgeRequest(reference=pset.rows[i].reference, prediction=pset.rows[i].prediction or "",
                                 question=question_of(pset.rows[i].human_turn), key=f"{pset.name}:{i}")
                    for i in todo]
        options.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with Judge(options.model, protocol=protocol, base_url=options.base_url, api_key=options.api_key,
                   cache=options.cache_path, concurrency=options.concurrency,
                   retry_failed=options.retry_failed, offline=options.backend == "none",
                   timeout=options.timeout, max_retries=options.retries, deadline_at=deadline_at) as judge:
            for i, verdict in zip(todo, judge.judge(requests, progress=progress)):
                verdicts[i] = verdict
    return verdicts
