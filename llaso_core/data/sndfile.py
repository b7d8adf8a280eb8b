"""soundfile, with every C function and type it declares built before any thread can use them.

cffi builds a library's C types lazily, on first use, and on builds with a GIL two threads doing so
at once can abort the whole process (an assertion in cffi's type realisation). llaso reads headers,
decodes and writes audio from thread pools, so library code imports soundfile from here: the
types are built once, in the importing thread, at import (well under a millisecond)."""

import soundfile as sf

__all__ = ["sf"]


def _realize() -> None:
    ffi, lib = sf._ffi, sf._snd
    for name in dir(lib):
        getattr(lib, name)
    typedefs, structs, unions = ffi.list_types()
    for name in [*typedefs, *(f"struct {s}" for s in structs), *(f"union {u}" for u in unions)]:
        ffi.typeof(f"{name} *")
        try:
            ffi.sizeof(name)  # completes a struct's fields
        except ffi.error:  # an opaque type (SNDFILE): its pointer is all there is to build
            pass


_realize()
