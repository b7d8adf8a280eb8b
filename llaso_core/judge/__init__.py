"""LLM judge (LLaSO paper Appendix O): prompt, cached OpenAI-compatible client, recorded outputs."""

from .cache import RECORDED_MODEL, JudgeCache, cache_key, recorded_judgment
from .client import Judge, is_retryable, resolve_api_key
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
