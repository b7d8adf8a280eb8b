"""``--model`` spec strings: a checkpoint folder, or ``KIND:REFERENCE`` naming a model plugin.

A folder written by ``llaso train`` (``llaso_config.json``) is the ``lslm`` kind; a folder written by
``llaso convert`` names its kind in ``llaso_model.json``. Anything else must be ``KIND:REFERENCE``
with a registered kind (an unknown one gets a did-you-mean).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from llaso_core.loader import PluginHost, get_host
from llaso_core.models.base import GenerationOptions, SpeechModel
from llaso_core.registry import UnknownNameError

LSLM_CONFIG = "llaso_config.json"  # what llaso train writes (llaso_core/model/lslm.py)
MODEL_MARKER = "llaso_model.json"  # what llaso convert writes: {"kind": ..., ...}


class ModelSpecError(ValueError):
    """A ``--model`` value names no model; the message says why."""


@attrs.frozen
class ModelRef:
    kind: str
    reference: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.reference}"


def folder_kind(folder: Path) -> str | None:
    """The model kind a folder holds, from the files llaso writes; None if it holds none."""
    if (folder / LSLM_CONFIG).exists():
        return "lslm"
    if (folder / MODEL_MARKER).exists():
        return json.loads((folder / MODEL_MARKER).read_text())["kind"]
    return None


def parse_model_spec(spec: str, host: PluginHost | None = None) -> ModelRef:
    host = host or get_host()
    path = Path(spec)
    if path.is_dir():
        kind = folder_kind(path)
        if kind is None:
            raise ModelSpecError(f"{spec} is not a llaso checkpoint (no {LSLM_CONFIG} or {MODEL_MARKER}); "
                                 f"for other models give KIND:REFERENCE ({', '.join(sorted(host.models.ids()))})")
        return ModelRef(kind, str(path))
    kind, sep, reference = spec.partition(":")
    if not sep or not reference or "/" in kind or "\\" in kind:
        raise ModelSpecError(f"{spec} is not a llaso checkpoint (no such folder) and not KIND:REFERENCE "
                             f"(kinds: {', '.join(sorted(host.models.ids()))})")
    try:
        host.models.get(kind)
    except UnknownNameError as exc:
        raise ModelSpecError(f"--model {spec}: {exc}") from None
    return ModelRef(kind, reference)


def load_model(spec: str | ModelRef, host: PluginHost | None = None, **options: Any) -> SpeechModel:
    """Parse ``spec`` and build the model through its plugin's factory."""
    host = host or get_host()
    ref = spec if isinstance(spec, ModelRef) else parse_model_spec(spec, host)
    model_spec = host.models.get(ref.kind)
    model = model_spec.load()(ref.reference, **options)
    model.modalities = tuple(m for m in model.modalities if m in model_spec.modalities)
    return model


def describe(model: SpeechModel, host: PluginHost | None = None,
             options: GenerationOptions = GenerationOptions()) -> dict[str, Any]:
    """What results files record about a model: its spec, adapter, adapter version and settings."""
    host = host or get_host()
    entry = host.models.entry(model.kind)
    status = host.plugin(entry.origin)
    return {"spec": model.spec, "kind": model.kind, "adapter": host.models.get(model.kind).factory,
            "plugin": entry.origin, "package": status.package, "version": status.version,
            "modalities": list(model.modalities), "system_prompt": model.system_prompt,
            "generation": model.generation_settings(options), **model.details()}
