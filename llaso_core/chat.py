"""The LLaSO chat rendering: system prompt, ``<Audio>`` markers, Llama-3 header layout (docs/training.md).

``render`` turns a query (and an answer, for training) into text with one audio placeholder per
audio segment, and the character span the loss is computed on: the answer and its ``<|eot_id|>``.
"""

from __future__ import annotations

import attrs

from llaso_core.query import AudioRef, AudioSegment, Query

SYSTEM_PROMPT = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant is able "
    "to understand the audio content that the user provides, and assist the user with a variety of "
    "tasks using natural language. The audio content will be provided with the following format: "
    "<Audio>audio content</Audio>."
)


@attrs.frozen
class ChatTemplate:
    """Token strings of a Llama-3-style layout. ``audio_placeholder`` marks where frames are spliced."""

    system: str = SYSTEM_PROMPT
    bos: str = "<|begin_of_text|>"
    header_start: str = "<|start_header_id|>"
    header_end: str = "<|end_header_id|>"
    eot: str = "<|eot_id|>"
    audio_open: str = "<Audio>"
    audio_close: str = "</Audio>"
    audio_placeholder: str = "<audio>"

    @property
    def special_tokens(self) -> tuple[str, ...]:
        """Tokens a tokenizer must know as single added tokens (beyond the Llama-3 ones)."""
        return (self.audio_open, self.audio_close, self.audio_placeholder)

    def header(self, role: str) -> str:
        return f"{self.header_start}{role}{self.header_end}\n\n"

    def user_content(self, query: Query) -> str:
        parts = [f"{self.audio_open}{self.audio_placeholder}{self.audio_close}"
                 if isinstance(seg, AudioSegment) else seg.text for seg in query.segments]
        return "\n".join(parts)

    def render(self, query: Query, answer: str | None = None) -> "RenderedChat":
        prompt = (f"{self.bos}{self.header('system')}{self.system}{self.eot}"
                  f"{self.header('user')}{self.user_content(query)}{self.eot}"
                  f"{self.header('assistant')}")
        if answer is None:
            return RenderedChat(prompt=prompt, text=prompt, answer_span=None, audio=query.audio)
        text = f"{prompt}{answer}{self.eot}"
        return RenderedChat(prompt=prompt, text=text, answer_span=(len(prompt), len(text)), audio=query.audio)


@attrs.frozen
class RenderedChat:
    """``prompt`` ends after the assistant header; ``text`` adds the answer and ``<|eot_id|>``.

    ``answer_span`` is the [start, end) character range supervised by the loss (None at inference).
    ``audio`` lists the audio in placeholder order.
    """

    prompt: str
    text: str
    answer_span: tuple[int, int] | None
    audio: tuple[AudioRef, ...]


LLASO_CHAT = ChatTemplate()
