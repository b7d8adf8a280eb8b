"""espeak-ng speech synthesis through the shared library of the ``espeakng-loader`` wheel.

Access path: ``ctypes`` on ``espeakng_loader.get_library_path()`` with the voice data of
``espeakng_loader.get_data_path()`` -- no system package and no executable (the wheel ships
neither an ``espeak-ng`` program nor anything phonemizer could synthesise with; phonemizer's
wrapper only phonemises). The library is initialised once per process with
``AUDIO_OUTPUT_SYNCHRONOUS`` (``espeak_Synth`` returns when the utterance is done, the synth
callback runs in the calling thread and collects the int16 samples) and
``espeakINITIALIZE_DONT_EXIT`` (a broken data folder raises instead of ending the process).

espeak-ng is a process-wide singleton and not re-entrant: every call into it runs under one
module lock (:data:`_LOCK`), so engines may be shared by threads. phonemizer loads its own copy
of the library (it copies the ``.so`` to a temporary folder), so the two do not interfere.

Voices: ``<language>`` (an installed voice by its language code, e.g. ``en-us``,
``en-gb-scotland``) optionally with ``+<variant>`` (a file of ``espeak-ng-data/voices/!v``,
e.g. ``+f3`` female, ``+m3`` male, ``+Annie``). :meth:`EspeakEngine.voices` lists a curated
English set with gender and accent (:data:`CURATED`) and then every installed language voice;
:meth:`EspeakEngine.variants` lists the variants; any ``language+variant`` pair is accepted.

Two pitfalls of the raw API this wrapper closes:

* ``espeak_SetVoiceByName`` fails (``EE_NOT_FOUND``) for a language code that is not a file
  name -- ``"en-gb"`` is the file ``gmw/en`` -- and a failed call silently **keeps the previous
  voice**; an unknown variant (``"en-us+annie"``, variants are case-sensitive) is silently
  ignored even though the call returns ``EE_OK``. This is why ``en-gb+f2`` could be "heard as
  male": the female variant was never applied. Here ids are resolved to file identifiers
  first (``en-gb+f2`` -> ``gmw/en+f2``, which gives a ~190 Hz voice), unknown ids raise
  :class:`~llaso_core.tts.engine.UnknownVoiceError`, and return codes are checked.
* rate and pitch persist between calls; both are set on every call (None -> the defaults).

Output is 22.05 kHz. It is reproducible up to a little pitch jitter: espeak-ng keeps static
state across utterances (the flutter index in ``wavegen.c``), which ``espeak_Terminate`` does
not reset, so the same call repeated gives the same length to within a few samples but not
identical bytes. Rate is in words per minute (80-450, default 175), pitch on espeak's 0-99
scale (default 50).
"""

from __future__ import annotations

import ctypes
import os
import threading
from importlib import metadata
from numbers import Integral
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from llaso_core.tts.engine import Synthesis, TTSEngine, UnknownVoiceError, Voice, check_text

# espeak_AUDIO_OUTPUT, options, flags, parameters and errors (speak_lib.h)
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakINITIALIZE_DONT_EXIT = 0x8000
espeakCHARS_UTF8 = 1
POS_CHARACTER = 1
espeakRATE = 1
espeakPITCH = 3
EE_OK = 0

RATE_RANGE = (80, 450)
PITCH_RANGE = (0, 99)
DEFAULT_RATE = 175
DEFAULT_PITCH = 50

#: bump when this wrapper's processing changes the audio it returns (part of the cache key)
WRAPPER_REVISION = 1

#: one lock for every call into the library (espeak-ng is a non re-entrant singleton)
_LOCK = threading.RLock()


def _new_lock_in_child() -> None:  # a lock held by another thread at fork time would never be released
    global _LOCK
    _LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _v(id: str, gender: str, accent: str, description: str) -> Voice:
    return Voice(id=id, language=id.split("+")[0], gender=gender, accent=accent, description=description)


#: curated English voices: the base voices sound male; ``+fN`` variants are female, ``+mN`` male.
#: (``en-gb+f2`` is left out on a teammate's report that it sounds male; measured here its f0 is
#: female-range once the voice id is resolved properly -- see the module docstring.)
CURATED: tuple[Voice, ...] = (
    _v("en-us", "male", "american", "English (America), default male voice"),
    _v("en-us+m3", "male", "american", "English (America), male variant m3"),
    _v("en-us+f3", "female", "american", "English (America), female variant f3"),
    _v("en-us+f4", "female", "american", "English (America), female variant f4"),
    _v("en-us-nyc", "male", "american", "English (America, New York City), male"),
    _v("en-us-nyc+f1", "female", "american", "English (America, New York City), female variant f1"),
    _v("en-gb", "male", "british", "English (Great Britain), default male voice"),
    _v("en-gb+m3", "male", "british", "English (Great Britain), male variant m3"),
    _v("en-gb+f3", "female", "british", "English (Great Britain), female variant f3"),
    _v("en-gb-x-rp", "male", "british", "English (Received Pronunciation), male"),
    _v("en-gb-x-rp+f4", "female", "british", "English (Received Pronunciation), female variant f4"),
    _v("en-gb-x-gbclan", "male", "british", "English (Lancaster), male"),
    _v("en-gb-x-gbcwmd", "male", "british", "English (West Midlands), male"),
    _v("en-gb-x-gbcwmd+f1", "female", "british", "English (West Midlands), female variant f1"),
    _v("en-gb-scotland", "male", "scottish", "English (Scotland), male"),
    _v("en-gb-scotland+f4", "female", "scottish", "English (Scotland), female variant f4"),
    _v("en-029", "male", "caribbean", "English (Caribbean), male"),
    _v("en-029+f5", "female", "caribbean", "English (Caribbean), female variant f5"),
)

_GENDER = {1: "male", 2: "female"}


class _VOICE(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated language)*, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@attrs.frozen
class _Installed:
    identifier: str  # file under espeak-ng-data (voices: lang/..., variants: voices/!v/...)
    name: str
    language: str
    gender: str | None


class _Library:
    """The loaded, initialised library (one per process; use under :data:`_LOCK`)."""

    def __init__(self) -> None:
        import espeakng_loader

        self.library_path = espeakng_loader.get_library_path()
        self.data_path = espeakng_loader.get_data_path()
        lib = ctypes.CDLL(self.library_path)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_VOICE)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VOICE))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        self.lib = lib

        # the path argument is the folder that holds espeak-ng-data
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, str(Path(self.data_path).parent).encode(),
                                     espeakINITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise (code {rate}) with data at {self.data_path}")
        self.sample_rate = int(rate)
        self.lib_version = (lib.espeak_Info(None) or b"unknown").decode()
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept referenced for the process lifetime
        lib.espeak_SetSynthCallback(self._callback)
        self.voices = self._list(None)
        spec = _VOICE()
        spec.languages = ctypes.cast(ctypes.c_char_p(b"variant"), ctypes.c_void_p)
        self.variants = self._list(spec)

    def _collect(self, wav, count, events) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # 0 = go on

    def _list(self, spec: _VOICE | None) -> list[_Installed]:
        found = self.lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        out = []
        i = 0
        while found[i]:
            v = found[i].contents
            language = ""
            if v.languages:  # first (priority, language) pair = the primary language
                language = ctypes.string_at(v.languages + 1).decode()
            out.append(_Installed(identifier=v.identifier.decode(), name=(v.name or b"").decode(),
                                  language=language, gender=_GENDER.get(v.gender)))
            i += 1
        return out

    def synthesize(self, voice_name: str, text: str, rate: int, pitch: int) -> np.ndarray:
        lib = self.lib
        status = lib.espeak_SetVoiceByName(voice_name.encode())
        if status != EE_OK:
            raise RuntimeError(f"espeak-ng could not select voice {voice_name!r} (error {status})")
        for parameter, value, what in ((espeakRATE, rate, "rate"), (espeakPITCH, pitch, "pitch")):
            status = lib.espeak_SetParameter(parameter, value, 0)
            if status != EE_OK:
                raise RuntimeError(f"espeak-ng rejected {what}={value} (error {status})")
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        try:
            status = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
            if status != EE_OK:
                raise RuntimeError(f"espeak-ng synthesis failed (error {status}) for text {text[:60]!r}")
            pcm = b"".join(self._chunks)
        finally:
            self._chunks = []
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


_LIBRARY: _Library | None = None


def _library() -> _Library:
    """The process's initialised library (loaded on first use)."""
    global _LIBRARY
    if _LIBRARY is None:
        with _LOCK:
            if _LIBRARY is None:
                _LIBRARY = _Library()
    return _LIBRARY


def _check_int(value: Any, what: str, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not (isinstance(value, Integral)
                                       or (isinstance(value, float) and value.is_integer())):
        raise TypeError(f"{what}: expected an integer in {bounds[0]}..{bounds[1]}, got {value!r}")
    value = int(value)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{what}={value} is out of range {bounds[0]}..{bounds[1]}")
    return value


class EspeakEngine(TTSEngine):
    """espeak-ng through ctypes (see the module docstring). ``EspeakEngine(default_rate=175,
    default_pitch=50)``; instances are cheap and share the one process-wide library."""

    name = "espeak-ng"
    rate_range = RATE_RANGE
    pitch_range = PITCH_RANGE

    def __init__(self, *, default_rate: int = DEFAULT_RATE, default_pitch: int = DEFAULT_PITCH) -> None:
        self.default_rate = _check_int(default_rate, "default_rate", RATE_RANGE)
        self.default_pitch = _check_int(default_pitch, "default_pitch", PITCH_RANGE)
        self._voices: list[Voice] | None = None
        self._by_language: dict[str, _Installed] | None = None

    # -- library facts ---------------------------------------------------------------------
    @property
    def version(self) -> str:
        try:
            loader = metadata.version("espeakng-loader")
        except metadata.PackageNotFoundError:  # pragma: no cover - vendored copy
            loader = "unknown"
        return f"{_library().lib_version}+loader{loader}+llaso{WRAPPER_REVISION}"

    @property
    def sample_rate(self) -> int:
        return _library().sample_rate

    def _index(self) -> dict[str, _Installed]:
        if self._by_language is None:
            by_language: dict[str, _Installed] = {}
            for v in _library().voices:
                key = v.language if v.language and v.language not in by_language else v.identifier
                by_language[key] = v
            self._by_language = by_language
        return self._by_language

    def variants(self) -> dict[str, str | None]:
        """Installed variant names (the part after ``+``) and their gender."""
        out = {}
        for v in _library().variants:
            name = v.identifier.split("/", 1)[-1]
            if " " not in name:  # "Mr serious" cannot be named in a voice id
                out[name] = v.gender
        return out

    # -- voices ----------------------------------------------------------------------------
    def voices(self) -> list[Voice]:
        """The curated English voices (:data:`CURATED`), then every installed language voice."""
        if self._voices is None:
            voices = list(CURATED)
            seen = {v.id for v in voices}
            for key, v in self._index().items():
                if key not in seen:
                    voices.append(Voice(id=key, language=v.language or key, gender=v.gender,
                                        description=v.name))
            self._voices = voices
        return list(self._voices)

    def curated_voices(self) -> list[Voice]:
        return list(CURATED)

    def voice(self, voice: str | Voice) -> Voice:
        """Resolve ``<language>[+<variant>]`` (or a :class:`Voice`) to a :class:`Voice`."""
        wanted = voice.id if isinstance(voice, Voice) else voice
        if not isinstance(wanted, str):
            raise TypeError(f"voice: expected a voice id string or a Voice, got {type(voice).__name__}")
        for v in CURATED:
            if v.id == wanted:
                return v
        base_id, variant = self._resolve(wanted)
        base = self._index()[base_id]
        curated = next((v for v in CURATED if v.id == base_id), None)
        if variant is None:
            return curated or Voice(id=base_id, language=base.language or base_id, gender=base.gender,
                                    description=base.name)
        gender = self.variants()[variant]
        return Voice(id=f"{base_id}+{variant}", language=base.language or base_id, gender=gender,
                     accent=curated.accent if curated else None,
                     description=f"{base.name}, variant {variant}")

    def _resolve(self, wanted: str) -> tuple[str, str | None]:
        """(base id, variant name or None), or UnknownVoiceError."""
        index = self._index()
        base_id, _, variant = wanted.partition("+")
        valid = [v.id for v in CURATED] + [k for k in index if k not in {v.id for v in CURATED}]
        if base_id not in index:
            lowered = {k.lower(): k for k in index}
            if base_id.lower() in lowered:
                base_id = lowered[base_id.lower()]
            else:
                raise UnknownVoiceError(self.name, wanted, valid,
                                        "Ids are <language>[+<variant>], e.g. 'en-us+f3'.")
        if not variant:
            if "+" in wanted:
                raise UnknownVoiceError(self.name, wanted, valid, "A '+' must be followed by a variant name.")
            return base_id, None
        variants = self.variants()
        if variant not in variants:
            folded = [name for name in variants if name.lower() == variant.lower()]
            if len(folded) == 1:
                return base_id, folded[0]
            raise UnknownVoiceError(self.name, wanted, [f"{base_id}+{name}" for name in variants],
                                    f"Unknown variant {variant!r}; variants: {', '.join(sorted(variants)[:12])}, ...")
        return base_id, variant

    # -- synthesis -------------------------------------------------------------------------
    def synthesize(self, text: str, *, voice: str | Voice, rate: int | None = None,
                   pitch: int | None = None) -> Synthesis:
        text = check_text(text)
        resolved = self.voice(voice)
        base_id, variant = self._resolve(resolved.id)
        rate = self.default_rate if rate is None else _check_int(rate, "rate", RATE_RANGE)
        pitch = self.default_pitch if pitch is None else _check_int(pitch, "pitch", PITCH_RANGE)
        library = _library()
        espeak_name = self._index()[base_id].identifier + (f"+{variant}" if variant else "")
        with _LOCK:
            samples = library.synthesize(espeak_name, text, rate, pitch)
        if samples.size == 0:
            raise RuntimeError(f"espeak-ng produced no audio for text {text[:60]!r} with voice {resolved.id!r}")
        return Synthesis(samples=samples, sample_rate=library.sample_rate, voice=resolved, rate=rate, pitch=pitch)
