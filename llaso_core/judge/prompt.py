"""The judge prompt of LLaSO paper Appendix O (released ``gpt_scores/gpt_test.py``), and its parser.

Two protocols (docs/metrics.md): ``paper`` shows the judge the reference and the
prediction only, word for word as the released script did; ``strict`` also shows the question.
"""

from __future__ import annotations

import re
from typing import Literal

PROMPT_VERSION = "llaso-appO-v1"
"""Bump whenever a prompt text below changes: it is part of every cache key."""

JudgeProtocol = Literal["paper", "strict"]
PROTOCOLS: tuple[str, ...] = ("paper", "strict")

PAPER_SYSTEM = (
    "You are evaluating the performance of an AI assistant in an audio question answering task.\n"
    "Given a **Reference Answer** and a **Predicted Answer**, assign a score from 1 to 5 based on "
    "Relevance & Accuracy.\n"
    "Output format (exactly, no other text):\n"
    "Score: <integer 1-5>\n"
    "Explanation: <concise justification focusing on both relevance and accuracy>\n"
)
PAPER_USER = (
    "**Reference Answer:**\n{reference}\n\n"
    "**Predicted Answer:**\n{predicted}\n\n"
    "Please produce the evaluation."
)

STRICT_SYSTEM = (
    "You are evaluating the performance of an AI assistant in an audio question answering task.\n"
    "Given the **Question** the assistant was asked, a **Reference Answer** and a **Predicted "
    "Answer**, assign a score from 1 to 5 based on Relevance & Accuracy of the Predicted Answer "
    "as an answer to the Question, judged against the Reference Answer.\n"
    "Output format (exactly, no other text):\n"
    "Score: <integer 1-5>\n"
    "Explanation: <concise justification focusing on both relevance and accuracy>\n"
)
STRICT_USER = "**Question:**\n{question}\n\n" + PAPER_USER

_SCORE_RE = re.compile(r"Score:\s*(\d)(?!\d)")


def check_protocol(protocol: str) -> JudgeProtocol:
    """Return ``protocol`` as a plain string (accepts a ``str`` enum), or raise ``ValueError``."""
    value = str(getattr(protocol, "value", protocol))
    if value not in PROTOCOLS:
        raise ValueError(f"unknown judge protocol {protocol!r}; expected one of {PROTOCOLS}")
    return value  # type: ignore[return-value]


def clean(text: str | None) -> str | None:
    """Normalise a prompt field the way the released script did (``.strip()``)."""
    return None if text is None else text.strip()


def build_messages(
    reference: str, prediction: str, question: str | None = None, *, protocol: str = "strict"
) -> list[dict[str, str]]:
    """Chat messages for one judgment. ``strict`` requires a question; ``paper`` ignores it."""
    protocol = check_protocol(protocol)
    reference, prediction = clean(reference) or "", clean(prediction) or ""
    if protocol == "paper":
        system, user = PAPER_SYSTEM, PAPER_USER.format(reference=reference, predicted=prediction)
    else:
        if question is None:
            raise ValueError("the strict judge protocol needs the question (JudgeRequest.question)")
        system = STRICT_SYSTEM
        user = STRICT_USER.format(question=clean(question), reference=reference, predicted=prediction)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_score(text: str | None) -> int | None:
    """First ``Score: N`` in ``text`` as an int in 1..5, else ``None`` (a parse error)."""
    if not text:
        return None
    match = _SCORE_RE.search(text)
    if match is None:
        return None
    score = int(match.group(1))
    return score if 1 <= score <= 5 else None
