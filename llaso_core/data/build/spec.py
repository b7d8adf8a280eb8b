"""The build spec: which inputs to read and how to turn them into a corpus (JSON or TOML file).

Example (TOML)::

    seed = 0
    eval_fraction = 0.1
    modalities = ["ta", "pa", "at"]
    balance_labels = true
    max_per_task = 2000

    [audio]
    max_seconds = 30

    [tts]
    instruction_voices = ["en-us", "en-us+f3"]

    [[inputs]]
    adapter = "librispeech"
    path = "LibriSpeech/dev-clean"     # relative to the spec file's folder
    tasks = ["ASR", "PR"]

    [[inputs]]
    adapter = "text-qa"
    path = "dolly.jsonl"
    source = "dolly"                   # dolly_input_1 / dolly_instruction_0 / (first pa source)

Unknown keys are errors (a misspelt option never silently does nothing).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping

import attrs

from .items import BuildError

MODALITIES = ("ta", "at", "pa")

#: clear voices that speak instructions (pa, at); two male, two female, two accents
DEFAULT_INSTRUCTION_VOICES = ("en-us", "en-us+f3", "en-gb-x-rp", "en-gb+f4")
#: voices that speak text-QA inputs (ta, pa); disjoint from the instruction voices
DEFAULT_INPUT_VOICES = ("en-us+m3", "en-us-nyc+f1", "en-gb", "en-gb-scotland+f4")


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _opt_strs(value: Any) -> tuple[str, ...] | None:
    return None if value is None else _strs(value)


def _positive_int_or_none(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise BuildError(f"{attribute.name} must be a positive integer or absent, got {value!r}")


@attrs.frozen
class InputSpec:
    """One input: ``adapter`` reads ``path``; ``tasks`` narrows what it produces (default: all
    the adapter can); ``sources`` maps task id (or, for text-qa, modality) to the release stem the
    samples are filed under; ``source`` is a shorthand (a stem, or a text-qa dataset name such as
    ``dolly``); ``name`` prefixes sample ids and audio folders (default: the adapter name, made
    unique); ``options`` go to the adapter."""

    adapter: str
    path: str
    tasks: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_strs)
    source: str | None = None
    sources: Mapping[str, str] = attrs.field(factory=dict, converter=dict)
    name: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path | None = None) -> "InputSpec":
        data = dict(data)
        if "task" in data:
            if "tasks" in data:
                raise BuildError("an input has both 'task' and 'tasks'")
            data["tasks"] = [data.pop("task")]
        _check_keys(data, cls, "input")
        for key in ("adapter", "path"):
            if not data.get(key):
                raise BuildError(f"an input needs '{key}' (got {dict(data)!r:.200})")
        path = Path(os.path.expanduser(str(data["path"])))
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        data["path"] = str(path)
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.asdict(self).items()
                if v is not None and v != {}}


@attrs.frozen
class AudioOptions:
    """How every clip is standardised (``AudioPolicy``: mono, resampled, length policy)."""

    sample_rate: int = 16000
    max_seconds: float | None = 30.0
    on_long: str = "truncate"  # truncate | skip
    min_seconds: float = 0.05

    def __attrs_post_init__(self) -> None:
        if self.on_long not in ("truncate", "skip"):
            raise BuildError(f"audio.on_long must be 'truncate' or 'skip', got {self.on_long!r}")
        self.policy()  # validates the numbers

    def policy(self, *, unlimited: bool = False) -> Any:
        from llaso_core.data.audio import AudioPolicy

        try:
            return AudioPolicy(sample_rate=int(self.sample_rate), mono=True,
                               max_seconds=None if unlimited else self.max_seconds, on_long=self.on_long,
                               min_seconds=0.0 if unlimited else self.min_seconds, on_problem="skip")
        except (TypeError, ValueError) as exc:
            raise BuildError(f"audio: {exc}") from None


@attrs.frozen
class TTSOptions:
    """Spoken instructions and inputs (paper Appendix H, vocal style mixing): a seeded voice per
    sample from ``instruction_voices``; text-QA inputs from ``input_voices`` (never the
    instruction's voice); ``rates`` (words/min) chosen per sample when given; ``silence_seconds``
    between the spoken instruction and the clip of a pure-audio sample; ``cache_dir`` of the
    synthesis cache (default ``$LLASO_CACHE_DIR/tts``)."""

    engine: str = "espeak-ng"
    instruction_voices: tuple[str, ...] = attrs.field(default=DEFAULT_INSTRUCTION_VOICES, converter=_strs)
    input_voices: tuple[str, ...] = attrs.field(default=DEFAULT_INPUT_VOICES, converter=_strs)
    rates: tuple[int, ...] = attrs.field(default=(), converter=lambda v: tuple(int(x) for x in v))
    pitch: int | None = None
    silence_seconds: float = 0.3
    cache_dir: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.instruction_voices:
            raise BuildError("tts.instruction_voices is empty")
        if not (isinstance(self.silence_seconds, (int, float)) and 0 <= self.silence_seconds <= 10):
            raise BuildError(f"tts.silence_seconds must be in 0..10, got {self.silence_seconds!r}")


@attrs.frozen
class BuildSpec:
    """Everything ``build_corpus`` needs besides the output folder.

    - ``seed``: split hash, template/cue/voice choice and down-sampling all derive from it.
    - ``eval_fraction``: share of source-item *groups* (speaker, instrument, actor) sent to eval.
    - ``modalities``: wanted among ta/at/pa (each task makes those its sources support).
    - ``max_per_task`` / ``max_per_label``: caps on source items per task / per (task, source,
      split, label), seeded random choice; ``balance_labels`` down-samples every closed label of a
      (task, source, split) to its rarest label's count (applied first).
    - ``english_only``: drop text-QA records whose letters are not (>=90 %) ASCII.
    - ``normalize_transcripts``: transcripts (targets of sources scored by WER: ASR, SCR) through
      ``basic_en`` (lowercase, no punctuation).
    - ``llaso_by_modality``: ``out/llaso/`` in ``text_audio/``, ``audio_text/``, ``pure_audio/``.
    - ``workers``: threads standardising audio (the output does not depend on it).
    """

    inputs: tuple[InputSpec, ...] = attrs.field(converter=tuple)
    seed: int = 0
    eval_fraction: float = 0.1
    modalities: tuple[str, ...] = attrs.field(default=MODALITIES, converter=_strs)
    max_per_task: int | None = attrs.field(default=None, validator=_positive_int_or_none)
    max_per_label: int | None = attrs.field(default=None, validator=_positive_int_or_none)
    balance_labels: bool = False
    english_only: bool = True
    normalize_transcripts: bool = True
    audio: AudioOptions = attrs.field(factory=AudioOptions)
    tts: TTSOptions = attrs.field(factory=TTSOptions)
    llaso_by_modality: bool = True
    workers: int = 1
    max_listed_problems: int = 1000

    def __attrs_post_init__(self) -> None:
        if not self.inputs:
            raise BuildError("the spec lists no inputs")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise BuildError(f"seed must be an integer, got {self.seed!r}")
        if not (isinstance(self.eval_fraction, (int, float)) and math.isfinite(self.eval_fraction)
                and 0.0 <= self.eval_fraction <= 1.0):
            raise BuildError(f"eval_fraction must be in [0, 1], got {self.eval_fraction!r}")
        bad = [m for m in self.modalities if m not in MODALITIES]
        if bad or not self.modalities:
            raise BuildError(f"modalities must be among {', '.join(MODALITIES)}, got {list(self.modalities)}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise BuildError(f"workers must be a positive integer, got {self.workers!r}")

    # -- files -----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None) -> "BuildSpec":
        """From a parsed JSON/TOML mapping; relative input paths are taken from ``base_dir``."""
        if not isinstance(data, Mapping):
            raise BuildError(f"a build spec is a mapping, got {type(data).__name__}")
        data = dict(data)
        _check_keys(data, cls, "spec")
        base = Path(base_dir) if base_dir is not None else None
        inputs = data.get("inputs")
        if not isinstance(inputs, (list, tuple)):
            raise BuildError("the spec needs 'inputs': a list of {adapter, path, ...}")
        data["inputs"] = tuple(InputSpec.from_dict(i, base) for i in inputs)
        for key, kind in (("audio", AudioOptions), ("tts", TTSOptions)):
            if key in data:
                _check_keys(data[key], kind, key)
                try:
                    data[key] = kind(**data[key])
                except TypeError as exc:
                    raise BuildError(f"{key}: {exc}") from None
        try:
            return cls(**data)
        except TypeError as exc:
            raise BuildError(f"spec: {exc}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "BuildSpec":
        """A ``.json`` or ``.toml`` spec; input paths are relative to the file's folder."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise BuildError(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            if path.suffix.lower() == ".toml":
                try:
                    import tomllib
                except ModuleNotFoundError:  # Python 3.10
                    import tomli as tomllib  # type: ignore[no-redef]
                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        except ValueError as exc:
            raise BuildError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
        try:
            return cls.from_dict(data, base_dir=path.resolve().parent)
        except BuildError as exc:
            raise BuildError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self, recurse=True, value_serializer=_plain)
        out["inputs"] = [i.to_dict() for i in self.inputs]
        return out


def _plain(instance: Any, attribute: Any, value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _check_keys(data: Any, cls: type, what: str) -> None:
    if not isinstance(data, Mapping):
        raise BuildError(f"{what}: expected a mapping, got {type(data).__name__}")
    known = {a.name for a in attrs.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        import difflib

        hints = [f"{k!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(k, known, 1))
                             else "") for k in unknown]
        raise BuildError(f"{what}: unknown key(s) {', '.join(hints)}; known: {', '.join(sorted(known))}")
