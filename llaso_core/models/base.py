"""The interface every model plugin implements: typed queries in, text out.

A :class:`Request` holds one query (paper Eq. 1: text and audio segments in order), its decoded
audio (16 kHz mono, in query order), a token budget and optionally a system prompt; ``None`` lets the
model use the one it was trained with. A :class:`SpeechModel` answers a batch of requests with one
:class:`Answer` each: a text, or an error (the sample is then unanswered and never scored).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterator, Literal, Sequence

import attrs
import numpy as np

from llaso_core.query import Query
from llaso_core.specs.components import QUERY_MODALITIES

SAMPLE_RATE = 16000


@attrs.frozen
class Request:
    """One thing to answer: a query, its decoded audio (in query order), a token budget, and the
    system prompt to use (``None``: the model's own)."""

    id: str
    query: Query
    waveforms: tuple[np.ndarray, ...]
    max_new_tokens: int = 64
    system: str | None = None


@attrs.frozen
class Answer:
    """A model's reply to one request: ``text``, or ``error`` when it could not answer."""

    text: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen
class GenerationOptions:
    batch_size: int = 32  # faster than 16 on the tiny CPU model (benchmarks/eval_throughput.py)
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    max_length: int = 4096
    min_new_tokens: int = 0  # benchmarks force equal-length answers with this
    # LSLM only: "dynamic" grows the KV cache as tokens come, in place (``kv_cache.growing_cache``; fastest
    # without compilation); "static" is transformers' fixed-size cache, for torch.compile'd decoding
    cache: Literal["dynamic", "static"] = "dynamic"
    share_prefix: bool = True  # LSLM only: prefill the batch's common prompt prefix once (dynamic cache)

    def sampling(self) -> dict[str, Any]:
        """The settings that change what is generated (recorded in results)."""
        out: dict[str, Any] = {"do_sample": self.do_sample}
        if self.do_sample:
            out.update(temperature=self.temperature, top_p=self.top_p)
        if self.min_new_tokens:
            out["min_new_tokens"] = self.min_new_tokens
        return out


OnBatch = Callable[[list[Request], list[Answer]], None]


def stream_text(tokenizer, generate: Callable[[Any], object], *, skip_prompt: bool = False) -> Iterator[str]:
    """Run ``generate(streamer)`` in a thread and yield the decoded text as it comes (transformers'
    ``TextIteratorStreamer``; ``skip_prompt`` when the output starts with the prompt's ids)."""
    import threading

    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True)
    worker = threading.Thread(target=generate, args=(streamer,))
    worker.start()
    yield from streamer
    worker.join()


class SpeechModel(ABC):
    """A loaded model. Subclasses set ``kind`` and implement :meth:`answer`; ``batched`` models get
    ``batch_size`` requests per call, the others one."""

    kind: str = "model"
    modalities: tuple[str, ...] = QUERY_MODALITIES
    batched: bool = True
    system_prompt: str | None = None  # the system prompt the model wants (None: none or its own template's)

    def __init__(self, reference: str) -> None:
        self.reference = reference

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.reference}"

    @abstractmethod
    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        """One answer per request, in order."""

    def stream(self, request: Request, options: GenerationOptions = GenerationOptions()) -> Iterator[str]:
        """The answer piece by piece; models that cannot stream give it in one piece."""
        answer = self.answer([request], options)[0]
        if answer.error is not None:
            raise RuntimeError(answer.error)
        yield answer.text or ""

    def batches(self, requests: Sequence[Request], batch_size: int) -> Iterator[list[Request]]:
        """Requests grouped by token budget (most first), ``batch_size`` at a time (1 if not batched)."""
        size = batch_size if self.batched else 1
        ordered = sorted(requests, key=lambda r: r.max_new_tokens, reverse=True)
        for i in range(0, len(ordered), size):
            yield ordered[i:i + size]

    def answer_all(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions(),
                   on_batch: OnBatch | None = None) -> dict[str, Answer]:
        """Answers by request id; ``on_batch`` is called after every batch (e.g. to append to a file)."""
        answers: dict[str, Answer] = {}
        for batch in self.batches(requests, options.batch_size):
            replies = self.answer_safely(batch, options)
            answers.update({r.id: a for r, a in zip(batch, replies)})
            if on_batch:
                on_batch(batch, replies)
        return answers

    def answer_safely(self, batch: list[Request], options: GenerationOptions) -> list[Answer]:
        """``answer``, but a batch that raises is answered one request at a time, and a request that
        still raises becomes an error answer naming it (unanswered, asked again by the next run)."""
        try:
            return self.answer(batch, options)
        except (ValueError, RuntimeError) as exc:
            if len(batch) == 1:
                return [Answer(None, f"{batch[0].id}: {type(exc).__name__}: {exc}")]
        return [reply for request in batch for reply in self.answer_safely([request], options)]

    def details(self) -> dict[str, Any]:
        """Adapter-specific facts worth recording in results (library versions, prompt, limits)."""
        return {}

    def generation_settings(self, options: GenerationOptions) -> dict[str, Any]:
        """The generation settings this model really uses under ``options``."""
        return {"batch_size": options.batch_size if self.batched else 1, **options.sampling()}

    def close(self) -> None:
        """Release what the model holds (threads, files); called once evaluation ends."""
