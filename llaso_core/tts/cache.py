"""A disk cache of synthesised speech: one 16-bit WAV file per (engine, version, text, voice,
rate, pitch), named by the sha256 of those fields.

The folder is ``cache_dir`` if given, else ``$LLASO_CACHE_DIR/tts``, else ``~/.cache/llaso/tts``.
Files are written atomically (a temporary file in the same folder, then ``os.replace``), so
concurrent writers and interrupted runs never leave a half-written WAV under a final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from llaso_core.tts.engine import TTSEngine, Voice, check_text

CACHE_ENV = "LLASO_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$LLASO_CACHE_DIR/tts`` or ``~/.cache/llaso/tts``."""
    root = os.environ.get(CACHE_ENV)
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "llaso") / "tts"


def cache_key(engine: str, version: str, text: str, voice: str, rate: int | None, pitch: int | None) -> str:
    """sha256 (hex) of the fields that determine the audio."""
    fields = {"engine": engine, "version": version, "text": text, "voice": voice, "rate": rate, "pitch": pitch}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _voice_id(engine: TTSEngine, voice: str | Voice) -> str:
    resolve = getattr(engine, "voice", None)  # validates, and maps aliases to one id
    if callable(resolve):
        return resolve(voice).id
    return voice.id if isinstance(voice, Voice) else str(voice)


def cache_path(engine: TTSEngine, text: str, voice: str | Voice, rate: int | None = None,
               pitch: int | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the WAV of these arguments lives (whether or not it exists yet)."""
    text = check_text(text)
    key = cache_key(engine.name, engine.version, text, _voice_id(engine, voice), rate, pitch)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / key[:2] / f"{key}.wav"


def write_wav_atomic(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples as a 16-bit PCM WAV at ``path`` via a temporary file and a rename."""
    from llaso_core.data.sndfile import sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:16]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            sf.write(handle, np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0), int(sample_rate),
                     format="WAV", subtype="PCM_16")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def synthesize_cached(engine: TTSEngine, text: str, voice: str | Voice, rate: int | None = None,
                      pitch: int | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """The path of a 16-bit WAV of ``text`` spoken by ``engine``; synthesised only on a cache miss."""
    path = cache_path(engine, text, voice, rate, pitch, cache_dir)
    if path.is_file():
        return path
    synthesis = engine.synthesize(text, voice=voice, rate=rate, pitch=pitch)
    return write_wav_atomic(path, synthesis.samples, synthesis.sample_rate)
