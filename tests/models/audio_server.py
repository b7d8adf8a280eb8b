"""A local OpenAI-compatible chat server for audio models (real HTTP on 127.0.0.1, no mocks).

It reuses the judge test server's HTTP plumbing and replaces its answers: every request is checked
(one user message; content parts ``text`` / ``input_audio``; each audio part a decodable base64 WAV)
and answered with a description of what arrived, e.g. ``text|audio:1.30s|`` so a test can see the
part order and clip lengths. Faults by substring of the text parts: ``transient[s] = (status, n)``
(the first n requests fail), ``always_fail[s] = status``, ``slow[s] = seconds`` (a time-out).
Malformed requests get HTTP 400 and are listed in ``problems``.
"""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from llaso_core.data.sndfile import sf

from tests.judge.server import FakeJudgeServer


def describe_parts(content: list[dict[str, Any]]) -> str:
    """``text`` / ``audio:<seconds>s`` per part, joined by ``|``; raises ValueError on a bad part."""
    out = []
    for part in content:
        if part.get("type") == "text":
            out.append("text")
        elif part.get("type") == "input_audio":
            audio = part["input_audio"]
            if audio.get("format") != "wav":
                raise ValueError(f"audio format {audio.get('format')!r}")
            samples, rate = sf.read(io.BytesIO(base64.b64decode(audio["data"], validate=True)))
            out.append(f"audio:{len(samples) / rate:.2f}s")
        else:
            raise ValueError(f"unknown content part {part.get('type')!r}")
    return "|".join(out)


class AudioChatServer(FakeJudgeServer):
    def __init__(self) -> None:
        super().__init__()
        self.slow: dict[str, float] = {}
        self.problems: list[str] = []

    def _decide(self, body: dict[str, Any]) -> tuple[int, str]:
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        try:
            if len(users) != 1 or not isinstance(users[0]["content"], list):
                raise ValueError("expected one user message with a list of content parts")
            shape = describe_parts(users[0]["content"])
        except (ValueError, KeyError, sf.LibsndfileError) as exc:
            with self._lock:
                self.requests.append(body)
                self.problems.append(str(exc))
            return 400, ""
        text = " ".join(p["text"] for p in users[0]["content"] if p["type"] == "text")
        with self._lock:
            self.requests.append(body)
            for needle, status in self.always_fail.items():
                if needle in text:
                    return status, ""
            for needle, (status, times) in self.transient.items():
                if needle in text and self._fail_counts.get(needle, 0) < times:
                    self._fail_counts[needle] = self._fail_counts.get(needle, 0) + 1
                    return status, ""
            delay = next((s for needle, s in self.slow.items() if needle in text), 0.0)
        if delay:
            time.sleep(delay)
        return 200, f"{shape} {text[:40]}"
