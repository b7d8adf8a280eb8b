"""What a judge is asked (`JudgeRequest`) and what it answers (`Judgment`)."""

from __future__ import annotations

from typing import Literal

import attrs

JudgmentStatus = Literal["ok", "parse_error", "api_error", "missing"]
JudgmentSource = Literal["api", "cache", "recorded"]

STATUSES: tuple[str, ...] = ("ok", "parse_error", "api_error", "missing")
SOURCES: tuple[str, ...] = ("api", "cache", "recorded")


@attrs.frozen
class JudgeRequest:
    """One (reference, prediction) pair to score; ``question`` is used by the strict protocol.

    ``key`` is a free caller label (e.g. ``"file.json#12"``); it is not part of the cache key.
    """

    reference: str
    prediction: str
    question: str | None = None
    key: str | None = None


@attrs.frozen
class Judgment:
    """A judge's verdict. ``score`` is set only when ``status == "ok"``; failures are never 0.

    ``raw`` is the judge's text (if any), ``error`` why it failed, ``source`` where it came
    from: a fresh API call, the on-disk cache, or a recorded release output imported into it.
    """

    status: JudgmentStatus = attrs.field(validator=attrs.validators.in_(STATUSES))
    score: int | None = attrs.field(default=None)
    raw: str | None = None
    error: str | None = None
    source: JudgmentSource = attrs.field(default="api", validator=attrs.validators.in_(SOURCES))

    @score.validator
    def _check_score(self, _attr: attrs.Attribute, value: int | None) -> None:
        if self.status == "ok":
            if value is None or not 1 <= value <= 5:
                raise ValueError(f"an ok judgment needs a score in 1..5, got {value!r}")
        elif value is not None:
            raise ValueError(f"a judgment with status {self.status!r} carries no score, got {value!r}")

    @property
    def ok(self) -> bool:
        """Whether this judgment has a usable score."""
        return self.status == "ok"

    @property
    def failed(self) -> bool:
        """Whether the judge was asked and failed (parse or API error), i.e. worth retrying."""
        return self.status in ("parse_error", "api_error")
