from __future__ import annotations

import pytest

from llaso_core.judge import (
    PAPER_SYSTEM,
    PROMPT_VERSION,
    JudgeRequest,
    build_messages,
    cache_key,
    parse_score,
)


def test_paper_prompt_is_the_released_one() -> None:
    messages = build_messages(" ref ", "pred\n", "What is it?", protocol="paper")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == PAPER_SYSTEM
    assert "Score: <integer 1-5>\nExplanation:" in PAPER_SYSTEM
    assert messages[1]["content"] == (
        "**Reference Answer:**\nref\n\n**Predicted Answer:**\npred\n\nPlease produce the evaluation."
    )
    assert "What is it?" not in messages[0]["content"] + messages[1]["content"]


def test_strict_prompt_shows_the_question() -> None:
    system, user = build_messages("ref", "pred", "What is it?", protocol="strict")
    assert "Question" in system["content"]
    assert user["content"].startswith("**Question:**\nWhat is it?\n\n**Reference Answer:**\nref\n\n")
    with pytest.raises(ValueError, match="question"):
        build_messages("ref", "pred", None, protocol="strict")
    with pytest.raises(ValueError, match="protocol"):
        build_messages("ref", "pred", None, protocol="lenient")


@pytest.mark.parametrize(
    ("text", "score"),
    [("Score: 4  \nExplanation: fine", 4), ("Score:1", 1), ("blah\nScore: 5\n", 5), ("Score: 0", None),
     ("Score: 7", None), ("Score: 10", None), ("no score", None), ("", None), (None, None)],
)
def test_parse_score(text: str | None, score: int | None) -> None:
    assert parse_score(text) == score


def test_cache_key_depends_on_what_changes_the_answer() -> None:
    base = ("m", PROMPT_VERSION, "strict", "q", "r", "p")
    key = cache_key(*base)
    for i, other in enumerate(["m2", "v0", "paper", "q2", "r2", "p2"]):
        changed = list(base)
        changed[i] = other
        assert cache_key(*changed) != key
    assert cache_key("m", PROMPT_VERSION, "strict", " q", "r ", "\np") == key  # stripped like the release
    # the paper protocol never shows the question, so it is not part of the key
    paper = ("m", PROMPT_VERSION, "paper")
    assert cache_key(*paper, "q1", "r", "p") == cache_key(*paper, None, "r", "p")


def test_request_defaults() -> None:
    request = JudgeRequest("r", "p")
    assert request.question is None and request.key is None
