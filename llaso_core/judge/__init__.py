"""LLM judge (LLaSO paper Appendix O): prompt, cached OpenAI-compatible client, recorded outputs.

``Judge``, ``is_retryable`` and ``resolve_api_key`` import the openai client (seconds of start-up)
on first access only: scoring from recorded or cached verdicts never pays for it.
"""

from typing import Any

from .cache import RECORDED_MODEL, JudgeCache, cache_key, recorded_judgment
from .prompt import (
    PAPER_SYSTEM,
    PAPER_USER,
    PROMPT_VERSION,
    PROTOCOLS,
    STRICT_SYSTEM,
    STRICT_USER,
    JudgeProtocol,
    build_messages,
    parse_score,
)
from .recorded import (
    RecordedFile,
    RecordedJudgment,
    find_recorded,
    import_recorded,
    read_recorded,
    load_recorded,
    load_recorded_for,
    recorded_path,
)
from .summary import JudgeSummary, summarize
from .types import Judgment, JudgmentSource, JudgmentStatus, JudgeRequest

__all__ = [
    "PAPER_SYSTEM", "PAPER_USER", "PROMPT_VERSION", "PROTOCOLS", "RECORDED_MODEL",
    "STRICT_SYSTEM", "STRICT_USER", "Judge", "JudgeCache", "JudgeProtocol", "JudgeRequest",
    "JudgeSummary", "Judgment", "JudgmentSource", "JudgmentStatus", "RecordedFile", "RecordedJudgment",
    "build_messages", "cache_key", "find_recorded", "import_recorded", "is_retryable",
    "read_recorded", "load_recorded", "load_recorded_for", "parse_score", "recorded_judgment",
    "recorded_path", "resolve_api_key", "summarize",
]

_CLIENT_NAMES = ("Judge", "is_retryable", "resolve_api_key")


def __getattr__(name: str) -> Any:
    if name not in _CLIENT_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import client

    return getattr(client, name)
