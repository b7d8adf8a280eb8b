"""`Judge`: scores (reference, prediction) pairs with an OpenAI-compatible chat model.

Cache first, API only for misses; every result is written to the cache the moment it arrives.
Retries (exponential backoff with jitter) are done here, not by the openai client, so their
behaviour is explicit and testable. A failure stays a failure (``api_error``/``parse_error``),
never a score of 0.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import openai

from .cache import RECORDED_MODEL, JudgeCache, cache_key
from .prompt import PROMPT_VERSION, build_messages, check_protocol, parse_score
from .types import Judgment, JudgeRequest

API_KEY_ENV = ("LLASO_JUDGE_API_KEY", "OPENAI_API_KEY")
LOCAL_DUMMY_KEY = "EMPTY"
RETRY_STATUS = frozenset({408, 409, 429})
DEADLINE_PASSED = "judge deadline passed"  # such failures are not cached: the pair was not judged

Progress = Callable[[int], None]


def resolve_api_key(api_key: str | None, base_url: str | None) -> str | None:
    """``api_key``, else the first set env var of `API_KEY_ENV`, else a dummy key for a custom server."""
    if api_key:
        return api_key
    for name in API_KEY_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return LOCAL_DUMMY_KEY if base_url else None


def is_retryable(error: Exception) -> bool:
    """Rate limits, timeouts, 5xx and connection errors are worth another try; 4xx are not."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in RETRY_STATUS or error.status_code >= 500
    return False


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Judge:
    """An LLM judge with a persistent cache.

    ``cache`` may be a `JudgeCache`, a path, or ``None`` (no persistence). ``offline=True``
    never calls the API: cached results are returned and the rest come back ``missing``.
    ``retry_failed=True`` calls the API again for cached ``api_error``/``parse_error`` entries.
    ``timeout`` bounds one request, ``max_retries`` the further tries after a retryable failure,
    ``deadline_at`` (a ``time.monotonic()`` instant) all calls: a request not answered by then is
    an ``api_error`` (not cached, so a later run asks again).
    """

    def __init__(
        self,
        model: str = RECORDED_MODEL,
        *,
        protocol: str = "strict",
        base_url: str | None = None,
        api_key: str | None = None,
        cache: JudgeCache | str | Path | None = None,
        temperature: float = 0.1,
        max_tokens: int | None = 1024,
        timeout: float = 60.0,
        concurrency: int = 8,
        max_retries: int = 5,
        retry_base_delay: float = 1.0,
        retry_max_delay: float = 60.0,
        retry_failed: bool = False,
        offline: bool = False,
        deadline_at: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.model = model
        self.protocol = check_protocol(protocol)
        self.prompt_version = PROMPT_VERSION
        self.base_url = base_url
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self.retry_failed = retry_failed
        self.offline = offline
        self.deadline_at = deadline_at
        self._owns_cache = not (isinstance(cache, JudgeCache) or cache is None)
        self.cache = JudgeCache(cache) if self._owns_cache else cache  # type: ignore[arg-type]
        self._api_key = resolve_api_key(api_key, base_url)
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()

    # -- public -------------------------------------------------------------------------
    def key(self, request: JudgeRequest) -> str:
        """The cache key of ``request`` under this judge's model, prompt version and protocol."""
        return cache_key(self.model, self.prompt_version, self.protocol,
                         request.question, request.reference, request.prediction)

    def judge(self, requests: Sequence[JudgeRequest], *, progress: Progress | None = None) -> list[Judgment]:
        """Judge ``requests``; results come back in input order, one per request.

        ``progress`` (if given) is called with the number of requests done so far.
        Identical requests (same cache key) are sent to the API once.
        """
        if self.protocol == "strict" and not self.offline:
            missing_q = [i for i, r in enumerate(requests) if r.question is None]
            if missing_q:
                raise ValueError(f"strict judge protocol needs a question; request {missing_q[0]} has none")
        keys = [self.key(r) for r in requests]
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        todo: dict[str, JudgeRequest] = {}
        for key, request in zip(keys, requests):
            hit = cached.get(key)
            if (hit is None or (self.retry_failed and hit.failed)) and key not in todo:
                todo[key] = request

        results: dict[str, Judgment] = {k: v for k, v in cached.items() if k not in todo}
        counts: dict[str, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        done = sum(counts[k] for k in results)
        if progress is not None:
            progress(done)

        if self.offline:
            for key in todo:
                results[key] = Judgment("missing", None, None, "not in the judge cache (offline)", "cache")
            if todo and progress is not None:
                progress(len(keys))
        elif todo:
            client = self._get_client()
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo))) as pool:
                futures = {pool.submit(self._call, client, req): key for key, req in todo.items()}
                try:
                    self._collect(futures, counts, results, done, progress)
                except BaseException:  # e.g. Ctrl-C: stop queued calls; finished ones are cached
                    for future in futures:
                        future.cancel()
                    raise
        return [results[k] for k in keys]

    def judge_one(self, request: JudgeRequest) -> Judgment:
        """Judge a single request (cache first)."""
        return self.judge([request])[0]

    def close(self) -> None:
        """Close the HTTP client, and the cache if this judge opened it from a path."""
        if self._client is not None:
            self._client.close()
        if self._owns_cache and self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------
    def _get_client(self) -> openai.OpenAI:
        with self._client_lock:
            if self._client is None:
                if self._api_key is None:
                    raise RuntimeError(
                        "no judge API key: pass api_key, set LLASO_JUDGE_API_KEY or OPENAI_API_KEY, "
                        "or use offline=True to read the cache only"
                    )
                self._client = openai.OpenAI(api_key=self._api_key, base_url=self.base_url,
                                             timeout=self.timeout, max_retries=0)
            return self._client

    def _collect(
        self,
        futures: dict[Future[Judgment], str],
        counts: dict[str, int],
        results: dict[str, Judgment],
        done: int,
        progress: Progress | None,
    ) -> None:
        """Cache and record each API result as it completes."""
        for future in as_completed(futures):
            key = futures[future]
            judgment = future.result()
            if self.cache is not None and not (judgment.error or "").startswith(DEADLINE_PASSED):
                self.cache.put(key, judgment, model=self.model, protocol=self.protocol,
                               prompt_version=self.prompt_version)
            results[key] = judgment
            done += counts[key]
            if progress is not None:
                progress(done)

    def _time_left(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - time.monotonic()

    def _backoff(self, attempt: int, error: Exception) -> float:
        delay = min(self.retry_max_delay, self.retry_base_delay * 2**attempt)
        delay = delay / 2 + random.uniform(0, delay / 2)
        hinted = _retry_after(error)
        return min(self.retry_max_delay, max(delay, hinted)) if hinted is not None else delay

    def _call(self, client: openai.OpenAI, request: JudgeRequest) -> Judgment:
        messages = build_messages(request.reference, request.prediction, request.question,
                                  protocol=self.protocol)
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        attempt = 0
        while True:
            left = self._time_left()
            if left is not None and left <= 0:
                tries = f" after {attempt} attempt(s)" if attempt else " before the request was sent"
                return Judgment("api_error", None, None, f"{DEADLINE_PASSED}{tries}", "api")
            try:
                response = client.chat.completions.create(
                    **kwargs, timeout=self.timeout if left is None else min(self.timeout, left))
                break
            except Exception as error:  # noqa: BLE001 - every failure becomes an api_error
                if not is_retryable(error) or attempt >= self.max_retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    return Judgment("api_error", None, None, f"{type(error).__name__}{tries}: {error}", "api")
                pause = self._backoff(attempt, error)
                left = self._time_left()
                time.sleep(pause if left is None else max(0.0, min(pause, left)))
                attempt += 1
        try:
            text = (response.choices[0].message.content or "").strip()
        except (AttributeError, IndexError) as error:
            return Judgment("api_error", None, None, f"malformed response: {error}", "api")
        score = parse_score(text)
        if score is None:
            return Judgment("parse_error", None, text, "no 'Score: N' (1-5) in judge output", "api")
        return Judgment("ok", score, text, None, "api")
