"""A tiny OpenAI-compatible chat server for judge tests (real HTTP, no mocks).

POST /v1/chat/completions answers ``Score: N\\nExplanation: ...``. N is read from a
``[score=N]`` tag in the predicted answer, else ``len(predicted) % 5 + 1``. Behaviour per input
is set by substrings of the user message:

- ``transient[s] = (status, times)``: the first ``times`` requests containing ``s`` get HTTP
  ``status`` (e.g. 500 or 429), later ones succeed;
- ``always_fail[s] = status``: every request containing ``s`` gets HTTP ``status``;
- ``garbage``: substrings whose requests get text without a score;
- ``hang[s] = seconds``: requests containing ``s`` wait that long before answering;
- ``non_json``: substrings whose requests get HTTP 200 with a body that is not JSON.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PRED_RE = re.compile(r"\*\*Predicted Answer:\*\*\n(.*?)\n\nPlease produce the evaluation\.", re.S)
_TAG_RE = re.compile(r"\[score=(\d)\]")


def expected_score(predicted: str) -> int:
    """The score this server gives to ``predicted``."""
    tag = _TAG_RE.search(predicted)
    return int(tag.group(1)) if tag else len(predicted) % 5 + 1


class FakeJudgeServer:
    """Start with `start()` (or as a context manager); ``base_url`` is ready for ``openai.OpenAI``."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.transient: dict[str, tuple[int, int]] = {}
        self.always_fail: dict[str, int] = {}
        self.garbage: set[str] = set()
        self.hang: dict[str, float] = {}
        self.non_json: set[str] = set()
        self.max_in_flight = 0
        self._in_flight = 0
        self._fail_counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.handle_error = self._handle_error  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a hanging request (its time-out) is expected: stay quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            ThreadingHTTPServer.handle_error(self._httpd, request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        """Number of chat requests received (failed ones included)."""
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeJudgeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeJudgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ----------------------------------------------------------------
    def _decide(self, body: dict[str, Any]) -> tuple[int, str | None]:
        """(status, judge text); ``None`` text: answer with a body that is not JSON."""
        user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
        pause = max((s for needle, s in self.hang.items() if needle in user), default=0.0)
        if pause:
            time.sleep(pause)
        with self._lock:
            self.requests.append(body)
            if any(needle in user for needle in self.non_json):
                return 200, None
            for needle, status in self.always_fail.items():
                if needle in user:
                    return status, ""
            for needle, (status, times) in self.transient.items():
                if needle in user and self._fail_counts.get(needle, 0) < times:
                    self._fail_counts[needle] = self._fail_counts.get(needle, 0) + 1
                    return status, ""
            if any(needle in user for needle in self.garbage):
                return 200, "I cannot decide on a number for this one."
        match = _PRED_RE.search(user)
        predicted = match.group(1) if match else ""
        return 200, f"Score: {expected_score(predicted)}\nExplanation: deterministic test judge."

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                with server._lock:
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    if server.delay:
                        time.sleep(server.delay)
                    status, content = server._decide(body)
                finally:
                    with server._lock:
                        server._in_flight -= 1
                if content is None:
                    data = b"<html>upstream proxy error</html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if status != 200:
                    self._send(status, {"error": {"message": f"test failure {status}", "type": "server_error",
                                                  "code": status}})
                    return
                self._send(200, {
                    "id": f"chatcmpl-test-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "test-judge"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                })

        return Handler
