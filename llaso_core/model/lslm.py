"""The Large Speech-Language Model: encoder -> projector -> LLM, one checkpoint folder.

``forward(batch)`` returns the summed token loss and the number of supervised tokens, so the
trainer can normalise by the supervised tokens of a whole global batch across accumulation steps.
Logits are computed only at supervised positions, and a prefix shared by every row of the batch
(``Batch.shared_prefix``: the system prompt) runs through the LLM once, its keys and values
repeated for the rows.
"""

from __future__ import annotations

import functools
import inspect
import json
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

from llaso_core.chat import LLASO_CHAT, ChatTemplate
from llaso_core.loader import PluginHost, get_host
from llaso_core.model.batching import Batch
from llaso_core.model.encoder import AudioEncoder
from llaso_core.model.llm import LLMBundle
from llaso_core.model.precision import DTYPES, cast_parameters, dtype_name, part_dtype
from llaso_core.model.projector import Projector

CONFIG_FILE = "llaso_config.json"
WEIGHTS_FILE = "model.safetensors"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded (a llaso folder, or a plugin's pretrained encoder or LLM); the
    message names the file or checkpoint and what is wrong."""


@attrs.frozen
class LSLMConfig:
    """What rebuilds the model: plugin ids with their options, and the projector shape."""

    encoder: str = "tiny"
    encoder_options: dict[str, Any] = attrs.field(factory=dict)
    llm: str = "tiny"
    llm_options: dict[str, Any] = attrs.field(factory=dict)
    projector_hidden: int | None = None
    frame_stack: int = 1

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class LSLM(nn.Module):
    def __init__(self, config: LSLMConfig, encoder: AudioEncoder, llm: LLMBundle,
                 chat: ChatTemplate = LLASO_CHAT) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.llm = llm.model
        self.tokenizer = llm.tokenizer
        self.llm_architecture = llm.architecture
        self.chat = chat
        width = self.llm.get_input_embeddings().embedding_dim
        self.projector = Projector(encoder.output_dim, width, hidden=config.projector_hidden, stack=config.frame_stack)
        self.audio_token_id = self.tokenizer.convert_tokens_to_ids(chat.audio_placeholder)

    def parts(self) -> dict[str, nn.Module]:
        """The model's parts by the names stage configs use."""
        return {"projector": self.projector, "llm": self.llm, "encoder": self.encoder}

    # -- sizes ------------------------------------------------------------------------------
    def num_frames(self, num_samples: int) -> int:
        """LLM positions a clip of ``num_samples`` samples takes."""
        return self.projector.num_frames(self.encoder.num_frames(num_samples))

    # -- forward ----------------------------------------------------------------------------
    def audio_embeddings(self, batch: Batch) -> torch.Tensor:
        if batch.audio_frames is not None:
            frames = batch.audio_frames
            lengths = torch.full((frames.shape[0],), frames.shape[1], device=frames.device)
        else:
            frames, lengths = self.encoder(batch.audio_features, batch.audio_lengths)
        projected, _ = self.projector(frames, lengths)
        return projected

    def embed(self, batch: Batch) -> torch.Tensor:
        """Token embeddings with audio frames spliced into the audio slots (index_put, no sync)."""
        embeds = self.llm.get_input_embeddings()(batch.input_ids)
        if batch.splice_rows.numel():
            audio = self.audio_embeddings(batch).to(embeds.dtype)
            embeds = embeds.index_put((batch.splice_rows, batch.splice_cols),
                                      audio[batch.splice_clip, batch.splice_frame])
        return embeds

    def prefix_cache(self, prefix_embeds: torch.Tensor, rows: int, cache=None):
        """The LLM's KV cache of a prefix ``[1, length, width]`` shared by ``rows`` rows: computed
        once and repeated (gradients flow back through the repeat). ``cache``: an empty one to fill."""
        decoder = self.llm.get_decoder()
        given = {cache_argument(decoder): cache} if cache is not None else {}
        output = decoder(inputs_embeds=prefix_embeds, use_cache=True, **given)
        cache = output.cache if "cache" in output else output.past_key_values  # transformers 5 / 4
        cache.batch_repeat_interleave(rows)
        return cache

    def hidden_states(self, batch: Batch) -> tuple[torch.Tensor, int]:
        """The LLM's last hidden states from position ``start`` on, and ``start``: the shared prefix,
        which is run once for the batch (or 0 under gradient checkpointing, which drops caches)."""
        decoder = self.llm.get_decoder()
        embeds = self.embed(batch)
        start = batch.shared_prefix
        if start and self.training and any(getattr(m, "gradient_checkpointing", False) for m in self.llm.modules()):
            start = 0
        if not start:
            return decoder(inputs_embeds=embeds, attention_mask=batch.attention_mask,
                           position_ids=batch.position_ids).last_hidden_state, 0
        cache = self.prefix_cache(embeds[:1, :start], embeds.shape[0])
        hidden = decoder(inputs_embeds=embeds[:, start:], attention_mask=batch.attention_mask,
                         position_ids=batch.position_ids[:, start:], use_cache=True,
                         **{cache_argument(decoder): cache}).last_hidden_state
        return hidden, start

    def forward(self, batch: Batch, per_sample: bool = False) -> tuple[torch.Tensor, int]:
        """(summed loss, count): over tokens, or with ``per_sample`` each sample's mean token loss summed
        over samples (so one-word labels weigh as much as long answers)."""
        hidden, start = self.hidden_states(batch)
        logits = self.llm.get_output_embeddings()(hidden[batch.loss_rows, batch.loss_cols - start])
        if per_sample:
            losses = nn.functional.cross_entropy(logits.float(), batch.loss_targets, reduction="none")
            return (losses * batch.loss_weights).sum(), batch.num_supervised_samples
        loss = nn.functional.cross_entropy(logits.float(), batch.loss_targets, reduction="sum")
        return loss, batch.num_targets

    # -- checkpoint -------------------------------------------------------------------------
    def save_pretrained(self, folder: str | Path, dtype: torch.dtype | None = None) -> None:
        """One folder: llaso_config.json, model.safetensors (all weights) and the tokenizer. ``dtype``:
        the LLM's and encoder's weights on disk (e.g. bf16 for a 3B LLM); default: as held. The
        projector is always saved in fp32. ``from_pretrained`` restores each part's dtype."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        dtypes = {name: torch.float32 if name == "projector" else dtype or part_dtype(module)
                  for name, module in self.parts().items()}
        meta = {"lslm": self.config.to_dict(), "encoder_architecture": self.encoder.architecture(),
                "llm_architecture": self.llm_architecture,
                "dtypes": {name: dtype_name(d) for name, d in dtypes.items()}}
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
        tensors = {f"{name}.{key}": t.to(dtypes[name]) if t.is_floating_point() else t
                   for name, module in self.parts().items() for key, t in _unique_tensors(module).items()}
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / WEIGHTS_FILE))
        self.tokenizer.save_pretrained(folder / "tokenizer")

    @classmethod
    def from_pretrained(cls, folder: str | Path, host: PluginHost | None = None) -> "LSLM":
        """Load a folder written by ``save_pretrained``. Raises ``CheckpointError`` naming the file at
        fault (config, tokenizer or weights) for a folder that cannot be loaded."""
        from safetensors import SafetensorError
        from safetensors.torch import load_model
        from transformers import AutoTokenizer

        folder = Path(folder)
        if not (folder / CONFIG_FILE).exists():
            raise FileNotFoundError(f"{folder} is not a llaso checkpoint (no {CONFIG_FILE})")
        meta, config, dtypes = _read_meta(folder / CONFIG_FILE)
        host = host or get_host()
        if not (folder / "tokenizer").is_dir():
            raise CheckpointError(f"{folder}: no tokenizer/ folder")
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)
        except (OSError, ValueError, TypeError) as exc:
            raise CheckpointError(f"{folder / 'tokenizer'}: cannot load the tokenizer ({_first_line(exc)})") from None
        try:
            model = build(config, host, tokenizer=tokenizer, encoder_architecture=meta["encoder_architecture"],
                          llm_architecture=meta["llm_architecture"])
        except TypeError as exc:  # an architecture entry its plugin does not take
            raise CheckpointError(f"{folder / CONFIG_FILE}: the model does not build ({exc})") from None
        for name, dtype in dtypes.items():
            cast_parameters(model.parts()[name], dtype)
        weights = folder / WEIGHTS_FILE
        if not weights.exists():
            raise CheckpointError(f"{folder}: no {WEIGHTS_FILE}")
        try:
            load_model(model, str(weights))
        except (SafetensorError, RuntimeError, OSError) as exc:
            raise CheckpointError(f"{weights}: {_weights_problem(exc)}") from None
        return model.eval()


def _read_meta(path: Path) -> tuple[dict, LSLMConfig, dict[str, torch.dtype]]:
    """``llaso_config.json``: the raw metadata, the model config and each part's saved dtype."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from None
    missing = [key for key in ("lslm", "encoder_architecture", "llm_architecture")
               if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise CheckpointError(f"{path}: no {', '.join(missing)} entry")
    dtypes = meta.get("dtypes") or {}
    unknown = {name: dtype for name, dtype in dtypes.items() if dtype not in DTYPES}
    if unknown:
        raise CheckpointError(f"{path}: unknown dtypes {unknown} (known: {', '.join(DTYPES)})")
    try:
        config = LSLMConfig(**meta["lslm"])
    except TypeError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return meta, config, {name: DTYPES[dtype] for name, dtype in dtypes.items()}


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def _weights_problem(error: BaseException) -> str:
    """One line for a weights file that cannot be read or does not fit the model."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if lines and lines[0].startswith("Error(s) in loading state_dict"):
        more = f" (and {len(lines) - 2} more)" if len(lines) > 2 else ""
        detail = lines[1] if len(lines) > 1 else lines[0]
        return f"does not fit the model {CONFIG_FILE} describes: {detail[:300]}{more}"
    return f"not a readable safetensors file ({_first_line(error)})"


def build(config: LSLMConfig, host: PluginHost | None = None, *, texts=None, tokenizer=None,
          encoder_architecture: dict | None = None, llm_architecture: dict | None = None) -> LSLM:
    """Build an LSLM from its plugins. With architectures (from a checkpoint) the parts are built with
    random weights at those shapes, ready for the saved state; otherwise from the plugin options."""
    host = host or get_host()
    encoder_factory = host.encoders.get(config.encoder).load()
    llm_factory = host.llms.get(config.llm).load()
    if encoder_architecture is not None:
        encoder = encoder_factory(None, **{**_without_checkpoint(config.encoder_options), **encoder_architecture})
    else:
        encoder = _pretrained("encoder", config.encoder, encoder_factory, config.encoder_options)
    if llm_architecture is not None:
        llm = llm_factory(None, tokenizer=tokenizer, **{**_without_checkpoint(config.llm_options), **llm_architecture})
    else:
        llm = _pretrained("LLM", config.llm, llm_factory, {"texts": texts, **config.llm_options})
    return LSLM(config, encoder, llm)


def _pretrained(part: str, plugin: str, factory: Any, options: dict[str, Any]) -> Any:
    """``factory(**options)``; a checkpoint it cannot load (a wrong path, an unknown hub id, no network)
    is a ``CheckpointError`` naming the part, the plugin and the checkpoint."""
    try:
        return factory(**options)
    except (OSError, ValueError) as exc:
        default = inspect.signature(factory).parameters.get("checkpoint")
        checkpoint = options.get("checkpoint", default.default if default is not None else None)
        local = isinstance(checkpoint, str) and checkpoint.startswith(("/", "./", "../", "~"))
        why = "no such folder" if local and not Path(checkpoint).expanduser().exists() else _first_line(exc)
        raise CheckpointError(f"{part} {plugin}: cannot load checkpoint {checkpoint!r} ({why})") from None


def cache_argument(module: nn.Module) -> str:
    """What ``module.forward`` (a transformers decoder or causal LM) calls its KV cache argument:
    ``cache`` in transformers 5.x, ``past_key_values`` before (looked up once per class)."""
    return _cache_argument(type(module))


@functools.cache
def _cache_argument(module_class: type) -> str:
    return "cache" if "cache" in inspect.signature(module_class.forward).parameters else "past_key_values"


def _unique_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """``module.state_dict()`` with tied tensors (one storage, several names) kept once, as
    safetensors requires; ``load_model`` fills the other names."""
    seen: set[tuple[int, tuple[int, ...]]] = set()
    out = {}
    for key, tensor in module.state_dict().items():
        ident = (tensor.data_ptr(), tuple(tensor.shape))
        if ident not in seen:
            seen.add(ident)
            out[key] = tensor
    return out


def _without_checkpoint(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k != "checkpoint"}
