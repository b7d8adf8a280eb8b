"""The audio pipeline: decode, downmix, resample, apply a length policy, and account for bad files.

Every clip the model sees goes through :func:`load_audio`. It decodes with soundfile (WAV, FLAC,
OGG/Opus, MP3 where the installed libsndfile supports it; torchaudio is the fallback for formats
libsndfile does not know), averages the channels into mono, converts to float32, resamples to the
policy rate with a cached torchaudio kernel, and applies the length policy (truncate, skip or chunk
clips longer than ``max_seconds``).

Bad files never surface as a stray soundfile exception. Each is classified as an
:class:`AudioProblem`:

``missing``   the path does not exist or is not a regular file
``corrupt``   undecodable, unreadable, or truncated (a WAV whose header declares more audio data
              than the file holds; a stream that decodes to fewer frames than its header says)
``empty``     a 0-byte file, no frames, shorter than ``min_seconds``, or all samples zero
``too_long``  longer than ``max_seconds`` while ``on_long="skip"``
``invalid``   NaN or infinite samples (found by header scans too, for float-sample files)

With ``on_problem="raise"`` an :class:`AudioError` naming the path and the sample id is raised for
every problem, ``too_long`` included, so in that mode :func:`load_audio` never returns None. With
``on_problem="skip"`` the call returns None and the problem is recorded in the :class:`AudioReport`
passed as ``report=``. :func:`validate_audio` scans many files into one report (header checks by
default, full decodes with ``deep=True``).

Shapes: a mono clip's ``samples`` are ``(n,)``; with ``mono=False`` they are ``(channels, n)``.
"""

from __future__ import annotations

import functools
import math
import os
import struct
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Union

import attrs
import numpy as np
import torch

from .sndfile import sf

__all__ = [
    "PROBLEM_KINDS", "AudioClip", "AudioError", "AudioPolicy", "AudioProblem", "AudioReport",
    "load_audio", "load_clip", "resample", "save_wav", "validate_audio",
]

ProblemKind = Literal["missing", "corrupt", "empty", "too_long", "invalid"]
PROBLEM_KINDS: tuple[str, ...] = ("missing", "corrupt", "empty", "too_long", "invalid")
PathLike = Union[str, "os.PathLike[str]"]

# Input frames (at the source rate) decoded past what a truncated/capped clip keeps, so the
# resampler's sinc window sees real signal at the cut rather than an edge.
_RESAMPLE_MARGIN_S = 0.01


# -- policy --------------------------------------------------------------------------------------
def _positive_or_none(instance: Any, attribute: attrs.Attribute, value: float | None) -> None:
    if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive number or None, got {value!r}")


@attrs.frozen
class AudioPolicy:
    """How clips are decoded and what happens to long, short and broken ones.

    ``max_seconds=None`` means no length limit. ``on_long="chunk"`` splits a long clip into
    consecutive ``max_seconds`` pieces, at most ``max_chunks`` of them (audio past the last kept
    chunk is dropped and the clip marked truncated); a trailing piece shorter than ``min_seconds``
    is dropped the same way.
    """

    sample_rate: int = attrs.field(default=16000, validator=[attrs.validators.instance_of(int),
                                                             attrs.validators.gt(0)])
    mono: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    max_seconds: float | None = attrs.field(default=30.0, validator=_positive_or_none)
    on_long: Literal["truncate", "skip", "chunk"] = attrs.field(
        default="truncate", validator=attrs.validators.in_(("truncate", "skip", "chunk")))
    max_chunks: int = attrs.field(default=20, validator=[attrs.validators.instance_of(int),
                                                        attrs.validators.ge(1)])
    min_seconds: float = attrs.field(default=0.05)
    on_problem: Literal["skip", "raise"] = attrs.field(
        default="skip", validator=attrs.validators.in_(("skip", "raise")))

    @min_seconds.validator
    def _check_min(self, attribute: attrs.Attribute, value: float) -> None:
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"min_seconds must be a non-negative number, got {value!r}")
        if self.max_seconds is not None and value >= self.max_seconds:
            raise ValueError(f"min_seconds ({value}) must be below max_seconds ({self.max_seconds})")

    @property
    def max_samples(self) -> int | None:
        """``max_seconds`` in samples at the policy rate (None when unlimited)."""
        return None if self.max_seconds is None else max(1, round(self.max_seconds * self.sample_rate))

    @property
    def min_samples(self) -> int:
        return round(self.min_seconds * self.sample_rate)


# -- clips, problems, errors ---------------------------------------------------------------------
@attrs.frozen(eq=False)
class AudioClip:
    """Decoded audio at the policy rate.

    ``chunk`` is the piece index under ``on_long="chunk"`` (None otherwise) and ``start_seconds``
    where the piece starts in the source. ``truncated`` is set when audio from the end of the
    source was dropped (``on_long="truncate"``, or the last chunk kept under ``max_chunks``).
    """

    samples: np.ndarray
    sample_rate: int
    path: str
    original_seconds: float
    truncated: bool = False
    chunk: int | None = None
    start_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.samples.shape[-1] / self.sample_rate

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[-1])

    @property
    def alteration(self) -> str | None:
        """How this piece differs from the source file, in words (None when it is all of it)."""
        if self.chunk is not None:
            return (f"chunk {self.chunk} ({self.start_seconds:.1f}-{self.start_seconds + self.seconds:.1f} s "
                    f"of {self.original_seconds:.1f} s)" + (", audio after it dropped" if self.truncated else ""))
        if self.truncated:
            return f"cut from {self.original_seconds:.1f} s to {self.seconds:.1f} s"
        return None


@attrs.frozen
class AudioProblem:
    """Why a file gave no audio: ``kind`` (one of :data:`PROBLEM_KINDS`), where, and detail."""

    kind: ProblemKind = attrs.field(validator=attrs.validators.in_(PROBLEM_KINDS))
    path: str
    sample_id: str | None
    detail: str

    @property
    def message(self) -> str:
        sample = f"sample {self.sample_id!r}" if self.sample_id is not None else "no sample id"
        return f"{self.kind} audio {self.path} ({sample}): {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "sample_id": self.sample_id, "detail": self.detail}


class AudioError(Exception):
    """Raised under ``on_problem="raise"``; ``.problem`` is the :class:`AudioProblem`."""

    def __init__(self, problem: AudioProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes
        return (type(self), (self.problem,))


class _Problem(Exception):
    """Internal: a classified failure before path and sample id are attached."""

    def __init__(self, kind: ProblemKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


# -- report --------------------------------------------------------------------------------------
class AudioReport:
    """Counts of what happened to the files a loader or scan touched. Thread-safe to record into.

    ``problems`` lists the first ``max_listed`` problems in the order recorded; ``problem_counts``
    counts every one per kind; ``altered`` lists the first ``max_listed`` files cut or chunked by the
    length policy (path, sample id, what was done) when the loader names them. ``truncated`` / ``chunked`` / ``skipped_long`` count files (a file
    split into several chunks counts once in ``chunked``; ``clips`` counts the pieces).
    Reports from workers combine with :meth:`merge`; they pickle (the lock is recreated).
    """

    def __init__(self, max_listed: int = 20) -> None:
        if max_listed < 0:
            raise ValueError("max_listed must be >= 0")
        self.max_listed = max_listed
        self.files = 0
        self.loaded = 0
        self.clips = 0
        self.truncated = 0
        self.chunked = 0
        self.skipped_long = 0
        self.seconds = 0.0
        self.problem_counts: dict[str, int] = dict.fromkeys(PROBLEM_KINDS, 0)
        self.problems: list[AudioProblem] = []
        self.altered: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # recording
    def record_problem(self, problem: AudioProblem) -> None:
        with self._lock:
            self.files += 1
            self.problem_counts[problem.kind] += 1
            if problem.kind == "too_long":
                self.skipped_long += 1
            if len(self.problems) < self.max_listed:
                self.problems.append(problem)

    def record_loaded(self, original_seconds: float, *, clips: int = 1, truncated: bool = False,
                      chunked: bool = False, path: str | None = None, sample_id: str | None = None,
                      detail: str | None = None) -> None:
        with self._lock:
            if detail is not None and (truncated or chunked) and len(self.altered) < self.max_listed:
                self.altered.append({"path": path, "sample_id": sample_id, "detail": detail})
            self.files += 1
            self.loaded += 1
            self.clips += clips
            self.truncated += bool(truncated)
            self.chunked += bool(chunked)
            self.seconds += original_seconds

    # reading
    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    @property
    def ok(self) -> bool:
        return self.problem_total == 0

    def merge(self, *others: "AudioReport") -> "AudioReport":
        """A new report holding this one's counts plus the others' (listed problems in order)."""
        out = AudioReport(max([self.max_listed, *(o.max_listed for o in others)]))
        for report in (self, *others):
            with report._lock:
                out.files += report.files
                out.loaded += report.loaded
                out.clips += report.clips
                out.truncated += report.truncated
                out.chunked += report.chunked
                out.skipped_long += report.skipped_long
                out.seconds += report.seconds
                for kind, count in report.problem_counts.items():
                    out.problem_counts[kind] = out.problem_counts.get(kind, 0) + count
                room = out.max_listed - len(out.problems)
                out.problems.extend(report.problems[:max(room, 0)])
                out.altered.extend(report.altered[:max(out.max_listed - len(out.altered), 0)])
        return out

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "files": self.files, "loaded": self.loaded, "clips": self.clips,
                "audio_seconds": round(self.seconds, 3),
                "truncated": self.truncated, "chunked": self.chunked, "skipped_long": self.skipped_long,
                "problem_total": sum(self.problem_counts.values()),
                "problems_by_kind": dict(self.problem_counts),
                "problems": [p.to_dict() for p in self.problems],
                "unlisted_problems": sum(self.problem_counts.values()) - len(self.problems),
                "altered": list(self.altered),
            }

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        kinds = ", ".join(f"{k}={v}" for k, v in self.problem_counts.items() if v)
        return (f"AudioReport(files={self.files}, loaded={self.loaded}, clips={self.clips}, "
                f"truncated={self.truncated}, chunked={self.chunked}, problems={self.problem_total}"
                f"{' [' + kinds + ']' if kinds else ''})")


# -- resampling ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _resampler(orig_rate: int, new_rate: int) -> Any:
    """A ``torchaudio.transforms.Resample`` per rate pair: its sinc kernel is built once."""
    import torchaudio

    return torchaudio.transforms.Resample(orig_rate, new_rate)


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Resample along the last axis with a cached kernel (torchaudio's functional output up to ~1e-4)."""
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if orig_rate == new_rate:
        return samples
    with torch.inference_mode():
        out = _resampler(int(orig_rate), int(new_rate))(torch.from_numpy(samples))
    return out.numpy()


# -- decoding ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _soundfile_extensions() -> frozenset[str]:
    exts = {fmt.lower() for fmt in sf.available_formats()}
    exts |= {"wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc"}
    if "MP3" not in sf.available_formats():
        exts.discard("mp3")
    return frozenset(exts)


def _check_path(path: str) -> int:
    """Size in bytes, or a ``missing`` / ``empty`` / ``corrupt`` problem."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _Problem("missing", "no such file") from None
    except OSError as exc:
        raise _Problem("corrupt", f"cannot stat: {exc.strerror or exc}") from None
    if not os.path.isfile(path):
        raise _Problem("missing", "not a regular file")
    if st.st_size == 0:
        raise _Problem("empty", "0-byte file")
    return st.st_size


def _wav_truncation(path: str, size: int) -> str | None:
    """For a RIFF/WAVE file, a message if the ``data`` chunk claims more bytes than the file has.

    libsndfile silently clamps such a file to what is there (a header-only file reads as 0
    frames), so a download cut short would otherwise load as a shorter or empty clip. Sizes of 0 or
    0xFFFFFFFF (streaming writers that never finalised the header) are not checked.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            pos = 12
            for _ in range(256):
                fh.seek(pos)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                cid, csize = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"data":
                    available = size - (pos + 8)
                    if csize not in (0, 0xFFFFFFFF) and csize > available:
                        return (f"truncated WAV: header declares {csize} bytes of audio data, "
                                f"the file holds {max(available, 0)}")
                    return None
                pos += 8 + csize + (csize & 1)
                if pos >= size:
                    return None
    except OSError:
        return None
    return None


def _decode(path: str, keep_frames: Callable[[int, int], int]) -> tuple[np.ndarray, int, int]:
    """``(data (frames, channels) float32, sample_rate, total_frames)``.

    ``keep_frames(total_frames, rate)`` says how many leading frames to decode (the length policy
    never needs more). Undecodable files raise ``_Problem("corrupt")``.
    """
    ext = Path(path).suffix.lower().lstrip(".")
    try:
        with sf.SoundFile(path) as fh:
            total, rate = fh.frames, fh.samplerate
            want = min(total, keep_frames(total, rate))
            data = fh.read(want, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError) as exc:
        if ext in _soundfile_extensions():
            raise _Problem("corrupt", f"cannot decode: {_short(exc)}") from None
        return _decode_torchaudio(path, keep_frames, exc)
    if data.shape[0] < want:
        raise _Problem("corrupt", f"decoded {data.shape[0]} of {want} frames the header announces")
    return data, rate, total


def _decode_torchaudio(path: str, keep_frames: Callable[[int, int], int],
                       sf_exc: BaseException) -> tuple[np.ndarray, int, int]:
    try:
        import torchaudio

        wav, rate = torchaudio.load(path)
    except ImportError:  # torchaudio >= 2.9 decodes through torchcodec, an optional package
        raise _Problem("corrupt", f"cannot decode: soundfile: {_short(sf_exc)} (torchaudio's fallback "
                                  "needs torchcodec, which is not installed)") from None
    except Exception as exc:  # noqa: BLE001 - any backend failure means "cannot decode"
        raise _Problem("corrupt", f"cannot decode: soundfile: {_short(sf_exc)}; "
                                  f"torchaudio: {_short(exc)}") from None
    data = wav.to(torch.float32).numpy().T
    total = data.shape[0]
    return np.ascontiguousarray(data[:keep_frames(total, rate)]), int(rate), total


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


# -- length policy -------------------------------------------------------------------------------
@attrs.frozen
class _Plan:
    """What the length policy keeps, in samples at the policy rate."""

    keep: int                  # leading samples kept in total
    pieces: tuple[int, ...]    # start of each piece (one piece unless chunking)
    truncated: bool


def _target_length(frames: int, orig_rate: int, new_rate: int) -> int:
    """Length of the resampled signal (torchaudio's ceil(new * n / orig))."""
    return -(-frames * new_rate // orig_rate)


def _plan(frames: int, rate: int, policy: AudioPolicy) -> _Plan:
    """Classify duration (``empty`` / ``too_long``) and decide the kept samples and pieces."""
    seconds = frames / rate
    if frames == 0:
        raise _Problem("empty", "no audio frames")
    if seconds < policy.min_seconds:
        raise _Problem("empty", f"{seconds:.3f} s is shorter than min_seconds={policy.min_seconds}")
    n = _target_length(frames, rate, policy.sample_rate)
    limit = policy.max_samples
    if limit is None or n <= limit:
        return _Plan(n, (0,), False)
    if policy.on_long == "skip":
        raise _Problem("too_long", f"{seconds:.2f} s exceeds max_seconds={policy.max_seconds}")
    if policy.on_long == "truncate":
        return _Plan(limit, (0,), True)
    starts = list(range(0, n, limit))
    truncated = False
    if len(starts) > 1 and n - starts[-1] < max(policy.min_samples, 1):
        starts.pop()                       # a sliver shorter than min_seconds
        truncated = True
    if len(starts) > policy.max_chunks:
        starts = starts[:policy.max_chunks]
        truncated = True
    keep = min(n, starts[-1] + limit)
    return _Plan(keep, tuple(starts), truncated)


# -- loading -------------------------------------------------------------------------------------
def load_audio(path: PathLike, policy: AudioPolicy | None = None, *, sample_id: str | None = None,
               report: AudioReport | None = None) -> AudioClip | list[AudioClip] | None:
    """Decode ``path`` under ``policy`` (default :class:`AudioPolicy()`).

    Returns one :class:`AudioClip`, or under ``on_long="chunk"`` always a list of them (one for a
    short file). On a problem: records it in ``report`` (when given) and returns None, or raises
    :class:`AudioError` under ``on_problem="raise"``.
    """
    policy = policy or AudioPolicy()
    outcome = load_clip(path, policy, sample_id=sample_id, report=report)
    if isinstance(outcome, AudioProblem):
        if policy.on_problem == "raise":
            raise AudioError(outcome)
        return None
    return outcome


def load_clip(path: PathLike, policy: AudioPolicy | None = None, *, sample_id: str | None = None,
              report: AudioReport | None = None) -> AudioClip | list[AudioClip] | AudioProblem:
    """Load and validate one clip: the clip (a list of them under ``on_long="chunk"``), or the
    :class:`AudioProblem` (kind, path, sample id, reason) that makes it unusable. Never raises for a
    bad file, whatever ``policy.on_problem``; records the outcome in ``report`` when given (a clip
    the length policy cut or chunked is listed in ``report.altered``). ``clip.alteration`` says
    what the length policy did to it."""
    policy = policy or AudioPolicy()
    path = os.fspath(path)
    try:
        clips, plan, original = _load(path, policy)
    except _Problem as problem:
        found = AudioProblem(problem.kind, path, sample_id, problem.detail)
        if report is not None:
            report.record_problem(found)
        return found
    if report is not None:
        altered = "; ".join(a for a in (c.alteration for c in clips) if a) if len(clips) > 1 else clips[0].alteration
        report.record_loaded(original, clips=len(clips), truncated=plan.truncated,
                             chunked=len(plan.pieces) > 1, path=path, sample_id=sample_id,
                             detail=f"split into {len(clips)} chunks" if len(clips) > 1 else altered)
    return clips if policy.on_long == "chunk" else clips[0]


def _load(path: str, policy: AudioPolicy) -> tuple[list[AudioClip], _Plan, float]:
    size = _check_path(path)
    truncation = _wav_truncation(path, size)
    if truncation:
        raise _Problem("corrupt", truncation)

    plan_box: list[_Plan] = []

    def keep_frames(total: int, rate: int) -> int:
        if rate <= 0:
            raise _Problem("corrupt", f"invalid sample rate {rate}")
        plan = _plan(total, rate, policy)
        plan_box.append(plan)
        if plan.keep >= _target_length(total, rate, policy.sample_rate):
            return total
        margin = math.ceil(_RESAMPLE_MARGIN_S * rate)
        return -(-plan.keep * rate // policy.sample_rate) + margin

    data, rate, total = _decode(path, keep_frames)
    plan = plan_box[0]  # both decoders call keep_frames once
    original = total / rate

    if not np.isfinite(data).all():
        bad = int(data.size - np.isfinite(data).sum())
        raise _Problem("invalid", f"{bad} NaN/infinite sample(s)")
    if not data.any():
        raise _Problem("empty", "all samples are zero")

    samples = data.mean(axis=1, dtype=np.float32) if policy.mono else np.ascontiguousarray(data.T)
    samples = resample(samples, rate, policy.sample_rate)[..., :plan.keep]
    limit = policy.max_samples or plan.keep
    clips = []
    for i, start in enumerate(plan.pieces):
        piece = np.ascontiguousarray(samples[..., start:start + limit])
        clips.append(AudioClip(
            samples=piece, sample_rate=policy.sample_rate, path=path, original_seconds=original,
            truncated=plan.truncated and i == len(plan.pieces) - 1,
            chunk=i if policy.on_long == "chunk" else None,
            start_seconds=start / policy.sample_rate))
    return clips, plan, original


# -- scanning ------------------------------------------------------------------------------------
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})


def _nonfinite(fh: sf.SoundFile, block: int = 1 << 16) -> int:
    """NaN/infinite values in a float-sample file, read in blocks; leaves the file at its start."""
    fh.seek(0)
    bad = 0
    for data in fh.blocks(blocksize=block, dtype="float32", always_2d=True):
        bad += int(data.size - np.count_nonzero(np.isfinite(data)))
    fh.seek(0)
    return bad


def _inspect(path: str, sample_id: str | None, policy: AudioPolicy, deep: bool,
             ) -> AudioProblem | tuple[float, int, bool, bool]:
    """One file's outcome for :func:`validate_audio`: a problem or (seconds, clips, trunc, chunked)."""
    if deep:
        try:
            clips, plan, original = _load(path, policy)
        except _Problem as p:
            return AudioProblem(p.kind, path, sample_id, p.detail)
        return original, len(clips), plan.truncated, len(plan.pieces) > 1
    try:
        size = _check_path(path)
        truncation = _wav_truncation(path, size)
        if truncation:
            raise _Problem("corrupt", truncation)
        try:
            with sf.SoundFile(path) as fh:
                frames, rate = fh.frames, fh.samplerate
                if frames > 0 and fh.subtype in _FLOAT_SUBTYPES:  # only float samples can be NaN/inf
                    bad = _nonfinite(fh)
                    if bad:
                        raise _Problem("invalid", f"{bad} NaN/infinite sample(s)")
                if frames > 0:  # tail probe: a stream cut short (FLAC, MP3) fails to seek there
                    try:
                        fh.seek(frames - 1)
                        tail = fh.read(1, dtype="float32", always_2d=True)
                    except (sf.LibsndfileError, RuntimeError) as exc:
                        raise _Problem("corrupt", f"cannot read the last frame: {_short(exc)}") from None
                    if tail.shape[0] != 1:
                        raise _Problem("corrupt", "the last frame the header announces is missing")
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError) as exc:
            if Path(path).suffix.lower().lstrip(".") in _soundfile_extensions():
                raise _Problem("corrupt", f"cannot read header: {_short(exc)}") from None
            _, rate, frames = _decode_torchaudio(path, lambda total, rate: 0, exc)
        if rate <= 0:
            raise _Problem("corrupt", f"invalid sample rate {rate}")
        plan = _plan(frames, rate, policy)
    except _Problem as p:
        return AudioProblem(p.kind, path, sample_id, p.detail)
    return frames / rate, len(plan.pieces), plan.truncated, len(plan.pieces) > 1


def validate_audio(paths_with_ids: Iterable[PathLike | tuple[PathLike, str | None]],
                   policy: AudioPolicy | None = None, *, workers: int = 1, deep: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   max_listed: int = 20, durations: list[float] | None = None) -> AudioReport:
    """Scan files into an :class:`AudioReport`; never raises for a file's problem.

    Items are ``(path, sample_id)`` pairs or bare paths. By default only headers are read (plus
    the WAV truncation check and a read of the last frame): missing, corrupt, cut-short,
    empty-by-length and too-long files are found, and truncation/chunk counts predicted.
    ``deep=True`` fully decodes each file as :func:`load_audio` would, which also finds all-zero
    and NaN/inf audio.
    ``workers > 1`` uses a thread pool; results are recorded in input order, so the report is the
    same for any worker count. ``progress(done, total)`` is called after each file. Each usable
    file's duration in seconds is appended to ``durations`` when it is given (input order).
    """
    policy = policy or AudioPolicy()
    items: list[tuple[str, str | None]] = []
    for item in paths_with_ids:
        if isinstance(item, tuple):
            p, sid = item
            items.append((os.fspath(p), None if sid is None else str(sid)))
        else:
            items.append((os.fspath(item), None))
    report = AudioReport(max_listed)
    total = len(items)

    def work(item: tuple[str, str | None]) -> AudioProblem | tuple[float, int, bool, bool]:
        return _inspect(item[0], item[1], policy, deep)

    def record(done: int, outcome: AudioProblem | tuple[float, int, bool, bool]) -> None:
        if isinstance(outcome, AudioProblem):
            report.record_problem(outcome)
        else:
            seconds, clips, truncated, chunked = outcome
            detail = (f"{seconds:.1f} s: split into {clips} chunks" if chunked
                      else f"cut from {seconds:.1f} s to {policy.max_seconds:g} s" if truncated else None)
            path, sample_id = items[done - 1]
            report.record_loaded(seconds, clips=clips, truncated=truncated, chunked=chunked, path=path,
                                 sample_id=sample_id, detail=detail)
            if durations is not None:
                durations.append(seconds)
        if progress is not None:
            progress(done, total)

    if workers <= 1 or total <= 1:
        for done, item in enumerate(items, 1):
            record(done, work(item))
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llaso-audio") as pool:
            for done, outcome in enumerate(pool.map(work, items), 1):
                record(done, outcome)
    return report


# -- writing -------------------------------------------------------------------------------------
def save_wav(path: PathLike, samples: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit PCM WAV atomically (temporary file in the same directory, then rename).

    ``samples`` are float in [-1, 1] (clipped), shaped ``(n,)`` or ``(channels, n)``.
    """
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim not in (1, 2):
        raise ValueError(f"samples must be (n,) or (channels, n), got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("samples contain NaN or infinite values")
    data = np.clip(data, -1.0, 1.0)
    if data.ndim == 2:
        data = data.T
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            sf.write(fh, data, int(sample_rate), format="WAV", subtype="PCM_16")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target
