"""The ``openai`` model kind: any OpenAI-compatible chat-completions server (vLLM, hosted audio models).

``openai:MODEL@BASE_URL`` (``openai:MODEL`` uses ``$OPENAI_BASE_URL`` or OpenAI). Each query becomes
one user message whose content parts follow the query's order: text parts, and ``input_audio``
parts holding the clip as a base64 16 kHz 16-bit WAV file. Requests run ``concurrency`` at a time;
rate limits, 5xx, time-outs and dropped connections are retried with exponential back-off
(``Retry-After`` honoured); what still fails is returned as an error (unanswered, never scored).
Every answer is stored in an on-disk cache keyed by the model and the whole request, so a rerun
asks only what is missing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import openai

from llaso_core.data.sndfile import sf
from llaso_core.judge.client import _retry_after, is_retryable, resolve_api_key
from llaso_core.models.base import SAMPLE_RATE, Answer, GenerationOptions, Request, SpeechModel
from llaso_core.query import AudioSegment, Query

CACHE_ENV = "LLASO_CACHE_DIR"
_EMPTY = Query("ta", ())  # describes the sampling settings without a real query


def wav_base64(samples: np.ndarray, rate: int = SAMPLE_RATE) -> str:
    """A complete WAV file (RIFF header, 16-bit PCM), base64-encoded."""
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(samples, dtype=np.float32), rate, format="WAV", subtype="PCM_16")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def user_content(request: Request) -> list[dict[str, Any]]:
    """The query's segments as content parts, in order."""
    clips = iter(request.waveforms)
    return [{"type": "input_audio", "input_audio": {"data": wav_base64(next(clips)), "format": "wav"}}
            if isinstance(segment, AudioSegment) else {"type": "text", "text": segment.text}
            for segment in request.query.segments]


class AnswerCache:
    """Answers on disk (SQLite), by request key; only successful answers are stored."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, model TEXT, answer TEXT, "
                         "created REAL)")
        self._db.commit()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, model: str, answer: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", (key, model, answer, time.time()))
            self._db.commit()

    def close(self) -> None:
        self._db.close()


def default_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "llaso")) / "model-answers.sqlite"


class OpenAIChatModel(SpeechModel):
    kind = "openai"

    def __init__(self, reference: str, *, api_key: str | None = None, concurrency: int = 8, max_retries: int = 4,
                 retry_base_delay: float = 1.0, retry_max_delay: float = 60.0, timeout: float = 120.0,
                 cache: str | Path | None = "default", system: str | None = None,
                 modalities: Sequence[str] | None = None) -> None:
        super().__init__(reference)
        model, _, base_url = reference.partition("@")
        if not model:
            raise ValueError(f"openai:{reference}: give openai:MODEL@BASE_URL (or openai:MODEL)")
        if concurrency < 1 or max_retries < 0:
            raise ValueError("openai: concurrency must be >= 1 and max_retries >= 0")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.concurrency, self.max_retries, self.timeout = concurrency, max_retries, timeout
        self.retry_base_delay, self.retry_max_delay = retry_base_delay, retry_max_delay
        self.system_prompt = system
        if modalities is not None:
            self.modalities = tuple(modalities)
        self.client = openai.OpenAI(base_url=self.base_url, api_key=resolve_api_key(api_key, self.base_url),
                                    timeout=timeout, max_retries=0)  # retries are done here, visibly
        self.cache = AnswerCache(default_cache() if cache == "default" else Path(cache)) if cache else None

    def body(self, request: Request, options: GenerationOptions) -> dict[str, Any]:
        system = request.system if request.system is not None else self.system_prompt
        messages = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user_content(request)}]
        body: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": request.max_new_tokens,
                                "temperature": options.temperature if options.do_sample else 0.0}
        if options.do_sample and options.top_p != 1.0:
            body["top_p"] = options.top_p
        return body

    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(lambda r: self._answer_one(self.body(r, options)), requests))

    def _answer_one(self, body: dict[str, Any]) -> Answer:
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return Answer(hit)
        attempt = 0
        while True:
            try:
                response = self.client.chat.completions.create(**body)
                break
            except Exception as error:  # noqa: BLE001 - every failure becomes an unanswered sample
                if not is_retryable(error) or attempt >= self.max_retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    return Answer(None, f"{type(error).__name__}{tries}: {error}")
                time.sleep(self._backoff(attempt, error))
                attempt += 1
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError) as error:
            return Answer(None, f"malformed response: {error}")
        if text is None:
            return Answer(None, "the response has no text content")
        if self.cache is not None:
            self.cache.put(key, self.model, text)
        return Answer(text.strip())

    def _backoff(self, attempt: int, error: Exception) -> float:
        delay = min(self.retry_max_delay, self.retry_base_delay * 2 ** attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)
        hinted = _retry_after(error)
        return min(self.retry_max_delay, max(delay, hinted)) if hinted is not None else delay

    def details(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, "openai_client": openai.__version__,
                "concurrency": self.concurrency, "max_retries": self.max_retries, "timeout_s": self.timeout,
                "audio_format": "wav 16 kHz pcm16 (input_audio)",
                "cache": str(self.cache.path) if self.cache else None}

    def generation_settings(self, options: GenerationOptions) -> dict[str, Any]:
        body = self.body(Request("", _EMPTY, ()), options)
        return {"temperature": body["temperature"], **({"top_p": body["top_p"]} if "top_p" in body else {}),
                "max_tokens": "task budget"}

    def close(self) -> None:
        self.client.close()
        if self.cache is not None:
            self.cache.close()


def load(reference: str, **options: Any) -> OpenAIChatModel:
    return OpenAIChatModel(reference, **options)
