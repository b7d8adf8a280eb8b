"""soundfile's C types are built at import, so threads reading audio never build one at once."""

import subprocess
import sys

# In a fresh interpreter: count cffi's C type objects after importing llaso's soundfile, run what the
# thread pools run (header, decode, a write to a file object, a failed open), and count again.
_PROBE = """
import gc, io, sys
import numpy as np
import soundfile
if sys.argv[1] == "llaso":
    from llaso_core.data.sndfile import sf
CType = type(soundfile._ffi.typeof("int"))
def built():
    return sum(type(o) is CType for o in gc.get_objects())
before = built()
buffer = io.BytesIO()
soundfile.write(buffer, np.zeros(160, dtype=np.float32), 16000, format="WAV", subtype="PCM_16")
buffer.seek(0)
soundfile.info(buffer)
buffer.seek(0)
soundfile.read(buffer, dtype="float32")
try:
    soundfile.info(sys.argv[2])
except soundfile.LibsndfileError:
    pass
print(built() - before)
"""


def _types_built_by_use(importing: str, tmp_path) -> int:
    missing = tmp_path / "missing.wav"
    out = subprocess.run([sys.executable, "-c", _PROBE, importing, str(missing)], check=True,
                         capture_output=True, text=True)
    return int(out.stdout)


def test_no_c_type_is_built_after_import(tmp_path):
    assert _types_built_by_use("plain", tmp_path) > 0  # the probe sees lazy building when it happens
    assert _types_built_by_use("llaso", tmp_path) == 0
