"""Persistent judgment cache: sqlite3 (WAL), safe to share between threads and processes.

The key is a sha256 of everything that can change the verdict's meaning: judge model, prompt
version, protocol, question (strict only), reference and prediction (both stripped, as the
released script did). Failures are stored too, so they are reported rather than forgotten.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .prompt import PROMPT_VERSION, check_protocol, clean, parse_score
from .types import Judgment

RECORDED_MODEL = "gpt-4o-mini"
"""The judge deployment of the released ``gpt_scores/gpt_test.py``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    protocol TEXT NOT NULL,
    status TEXT NOT NULL,
    score INTEGER,
    raw TEXT,
    error TEXT,
    origin TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(
    model: str,
    prompt_version: str,
    protocol: str,
    question: str | None,
    reference: str,
    prediction: str,
) -> str:
    """sha256 hex of the judgment's identity; the question only counts under ``strict``."""
    protocol = check_protocol(protocol)
    if protocol == "paper":
        question = None
    payload = [model, prompt_version, protocol, clean(question), clean(reference), clean(prediction)]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def recorded_judgment(evaluation: str) -> Judgment:
    """Turn a released ``evaluation`` text into a Judgment (``ERROR: ...`` rows are API errors)."""
    text = (evaluation or "").strip()
    if text.startswith("ERROR:"):
        return Judgment("api_error", None, text, text[len("ERROR:") :].strip(), "recorded")
    score = parse_score(text)
    if score is None:
        return Judgment("parse_error", None, text, "no 'Score: N' (1-5) in judge output", "recorded")
    return Judgment("ok", score, text, None, "recorded")


class JudgeCache:
    """An on-disk judgment store at ``path`` (created if absent)."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), timeout=timeout, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(_SCHEMA)
            self._conn.commit()

    def get(self, key: str) -> Judgment | None:
        """The stored judgment for ``key`` (source ``cache`` or ``recorded``), or ``None``."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Judgment]:
        """Stored judgments for those of ``keys`` that are present."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Judgment] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, status, score, raw, error, origin FROM judgments WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, status, score, raw, error, origin in rows:
                    source = "recorded" if origin == "recorded" else "cache"
                    found[key] = Judgment(status, score, raw, error, source)
        return found

    def put(
        self,
        key: str,
        judgment: Judgment,
        *,
        model: str,
        protocol: str,
        prompt_version: str = PROMPT_VERSION,
        overwrite: bool = True,
    ) -> bool:
        """Store ``judgment`` under ``key`` and commit at once; return whether a row was written."""
        if judgment.status == "missing":
            raise ValueError("a 'missing' judgment is not a result and is never cached")
        origin = "recorded" if judgment.source == "recorded" else "api"
        verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
        row = (key, model, prompt_version, check_protocol(protocol), judgment.status,
               judgment.score, judgment.raw, judgment.error, origin, time.time())
        with self._lock:
            cursor = self._conn.execute(f"{verb} INTO judgments VALUES (?,?,?,?,?,?,?,?,?,?)", row)
            self._conn.commit()
        return cursor.rowcount > 0

    def import_recorded(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        model: str = RECORDED_MODEL,
        overwrite: bool = False,
    ) -> int:
        """Import released ``gpt_result/*.jsonl`` rows (``predicted``, ``reference``, ``evaluation``).

        They go under the key of ``model``, the paper prompt version, protocol ``paper`` and no
        question, so a later paper-protocol lookup of the same pair finds them. Existing entries
        are kept unless ``overwrite``; for a pair repeated in the rows the first one wins.
        Returns the number of rows written.
        """
        first: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            key = cache_key(model, PROMPT_VERSION, "paper", None, row["reference"], row["predicted"])
            if key in first:
                continue
            j = recorded_judgment(row["evaluation"])
            first[key] = (key, model, PROMPT_VERSION, "paper", j.status, j.score, j.raw, j.error,
                          "recorded", time.time())
        verb = "INSERT OR REPLACE" if overwrite else "INSERT OR IGNORE"
        written = 0
        with self._lock:
            for item in first.values():
                written += self._conn.execute(
                    f"{verb} INTO judgments VALUES (?,?,?,?,?,?,?,?,?,?)", item
                ).rowcount
            self._conn.commit()
        return written

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM judgments").fetchone()[0]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
