"""The ``llaso-release`` model kind: the published LLaSO-Base checkpoints in the authors' LLaVA layout.

The folder holds ``config.json`` (``model_type`` ``llava_llama``: the Llama config plus
``mm_audio_tower``, ``audio_projector_type``, ``mm_audio_select_layer``, ...), the weights under
the authors' names (``model.embed_tokens``/``model.layers``/``lm_head`` for Llama,
``model.audio_tower.audio_tower.*`` for the Whisper encoder, ``model.mm_audio_aligner.projector.{0,2}``
for the ``mlp2x_gelu`` aligner) and the tokenizer. The forward follows the authors' evaluation:

- audio cut into slices of 480001 samples (at most 20 per clip), each padded to 30 s of Whisper
  log-mel and encoded alone; the hidden state of ``mm_audio_select_layer`` goes through the aligner,
  so every slice costs 1500 LLM positions;
- their ``llama32_audio_v1_mmtag`` template: Llama-3 headers, their system prompt, and ``<audio>``
  rewritten to ``\\n<Audio><audio_start><audio><audio_end></Audio>\\n\\n`` when text precedes the first
  audio, ``<Audio><audio_start><audio><audio_end></Audio>\\n`` when the turn starts with audio;
- the prompt tokenized around each ``<audio>`` (one BOS) and the slices' frames spliced in its place;
- greedy decoding, one query at a time, up to 256 new tokens, until the checkpoint's EOS.

``convert`` writes a self-contained copy (Whisper config and feature extractor inside, one
safetensors file) that loads without the authors' hard-coded Whisper path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from llaso_core import __version__
from llaso_core.models.base import SAMPLE_RATE, Answer, GenerationOptions, Request, SpeechModel, stream_text
from llaso_core.models.resolve import MODEL_MARKER
from llaso_core.query import AUDIO_TAG, AudioSegment, Query

SYSTEM_PROMPT = (  # conv_llama32_audio_v1_mmtag: no space before "The audio content"
    "A chat between a curious user and an artificial intelligence assistant. The assistant is able to "
    "understand the audio content that the user provides, and assist the user with a variety of tasks using "
    "natural language.The audio content will be provided with the following format: <Audio>audio content</Audio>."
)
AUDIO_AFTER_TEXT = "\n<Audio><audio_start><audio><audio_end></Audio>\n\n"
AUDIO_FIRST = "<Audio><audio_start><audio><audio_end></Audio>\n"
SLICE = 480000  # a clip longer than this is cut into slices of SLICE + 1 samples
MAX_SLICES = 20
RELEASE_MAX_NEW_TOKENS = 256  # model_eval.py, default --data_type asr: greedy, 256 new tokens
TOWER_PREFIX = "model.audio_tower.audio_tower."
ALIGNER_PREFIX = "model.mm_audio_aligner.projector."
AUDIO_TOWER_ENV = "LLASO_AUDIO_TOWER"
WHISPER_LARGE_V3 = "openai/whisper-large-v3"


class ReleaseFormatError(ValueError):
    """The folder is not in the authors' layout; the message names the file and what is wrong."""


def release_turn(query: Query) -> str:
    """The human turn as the release writes it: text and ``<audio>`` tags in query order."""
    return "".join(AUDIO_TAG if isinstance(s, AudioSegment) else s.text for s in query.segments)


def release_prompt(query: Query, system: str = SYSTEM_PROMPT) -> str:
    """The authors' evaluation prompt, ending after the assistant header."""
    human = release_turn(query).strip()
    text_first = bool(human.split(AUDIO_TAG, 1)[0].strip())
    user = human.replace(AUDIO_TAG, AUDIO_AFTER_TEXT if text_first else AUDIO_FIRST)
    return (f"<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
            f"<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>"
            f"<|start_header_id|>assistant<|end_header_id|>\n\n")


def prompt_ids(prompt: str, tokenizer) -> list[int | None]:
    """Token ids with ``None`` where an audio clip goes; one BOS (each piece's own BOS dropped)."""
    pieces = [tokenizer(piece).input_ids for piece in prompt.split(AUDIO_TAG)]
    bos = tokenizer.bos_token_id
    skip = 1 if pieces[0] and pieces[0][0] == bos else 0
    ids: list[int | None] = pieces[0][:skip]
    for i, piece in enumerate(pieces):
        if i:
            ids.append(None)
        ids.extend(piece[skip:])
    return ids


def audio_slices(waveform: np.ndarray) -> list[np.ndarray]:
    rest, slices = np.asarray(waveform, dtype=np.float32), []
    while len(rest):
        cut = SLICE + 1 if len(rest) > SLICE else len(rest)
        slices.append(rest[:cut])
        rest = rest[cut:]
    return slices[:MAX_SLICES]


class ReleaseModel(SpeechModel):
    kind = "llaso-release"
    batched = False  # the authors decode one query at a time
    system_prompt = SYSTEM_PROMPT

    def __init__(self, reference: str, *, device: str | None = None, dtype: str | None = None,
                 audio_tower: str | None = None, max_new_tokens: int | None = RELEASE_MAX_NEW_TOKENS) -> None:
        from transformers import AutoTokenizer

        super().__init__(reference)
        self.folder = resolve_folder(reference)
        self.config = read_config(self.folder)
        self.tower_path = tower_folder(self.folder, self.config, audio_tower)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.type == "cuda" else torch.float32)
        self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        with building(self.device, torch_dtype):
            self.llm, self.encoder, self.aligner, self.feature_extractor = build_modules(self.folder, self.config,
                                                                                       self.tower_path)
        for module in (self.llm, self.encoder, self.aligner):
            module.to(device=self.device, dtype=torch_dtype).eval()  # from_pretrained Whisper (no tower in the file)
        self.select_layer = int(self.config.get("mm_audio_select_layer", -1))
        self.max_new_tokens = max_new_tokens

    # -- the forward --------------------------------------------------------------------------
    @torch.inference_mode()
    def clip_embeddings(self, waveform: np.ndarray) -> torch.Tensor:
        """[slices * 1500, hidden]: every slice padded to 30 s, encoded alone, aligned, concatenated."""
        parts = []
        for piece in audio_slices(waveform):
            features = self.feature_extractor(piece, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
            dtype = next(self.encoder.parameters()).dtype
            hidden = self.encoder(features.to(self.device, dtype), output_hidden_states=True).hidden_states
            parts.append(self.aligner(hidden[self.select_layer])[0])
        return torch.cat(parts)

    @torch.inference_mode()
    def prompt_embeddings(self, request: Request) -> torch.Tensor:
        """[1, length, hidden]: the prompt's token embeddings with each clip spliced at its ``<audio>``."""
        ids = prompt_ids(release_prompt(request.query, request.system or SYSTEM_PROMPT), self.tokenizer)
        if ids.count(None) != len(request.waveforms):
            raise ValueError(f"{request.id}: {ids.count(None)} audio slots but {len(request.waveforms)} clips")
        embed = self.llm.get_input_embeddings()
        clips, parts, run = iter(request.waveforms), [], []
        for token in ids:
            if token is not None:
                run.append(token)
                continue
            if run:
                parts.append(embed(torch.tensor(run, device=self.device)))
                run = []
            parts.append(self.clip_embeddings(next(clips)))
        if run:
            parts.append(embed(torch.tensor(run, device=self.device)))
        return torch.cat(parts)[None]

    @torch.inference_mode()
    def prompt_logits(self, request: Request) -> torch.Tensor:
        """The LLM's logits over the prompt (for checking the forward against the authors')."""
        return self.llm(inputs_embeds=self.prompt_embeddings(request)).logits[0]

    @torch.inference_mode()
    def generate_ids(self, request: Request, options: GenerationOptions = GenerationOptions(), streamer=None) -> list[int]:
        embeds = self.prompt_embeddings(request)
        budget = self.max_new_tokens or request.max_new_tokens
        output = self.llm.generate(inputs_embeds=embeds, attention_mask=torch.ones(embeds.shape[:2], device=self.device,
                                                                                   dtype=torch.long),
                                   max_new_tokens=budget, do_sample=options.do_sample, num_beams=1,
                                   temperature=options.temperature if options.do_sample else None,
                                   top_p=options.top_p if options.do_sample else None,
                                   pad_token_id=self.tokenizer.pad_token_id, streamer=streamer)
        return output[0].tolist()

    def answer(self, requests: Sequence[Request], options: GenerationOptions = GenerationOptions()) -> list[Answer]:
        return [Answer(self.tokenizer.decode(self.generate_ids(r, options), skip_special_tokens=True).strip())
                for r in requests]

    def stream(self, request: Request, options: GenerationOptions = GenerationOptions(batch_size=1)) -> Iterator[str]:
        return stream_text(self.tokenizer, lambda streamer: self.generate_ids(request, options, streamer=streamer))

    def details(self) -> dict[str, Any]:
        return {"llaso_version": __version__, "folder": str(self.folder), "audio_tower": str(self.tower_path),
                "select_layer": self.select_layer, "audio_slice_seconds": 30, "max_slices": MAX_SLICES}

    def generation_settings(self, options: GenerationOptions) -> dict[str, Any]:
        return {**super().generation_settings(options), "num_beams": 1,
                "max_new_tokens": self.max_new_tokens or "task budget"}


# -- reading the authors' folder ---------------------------------------------------------------
def resolve_folder(reference: str) -> Path:
    """A local folder, or a hub id fetched with huggingface_hub (cached)."""
    path = Path(reference).expanduser()
    if path.is_dir():
        return path
    if path.exists() or reference.startswith((".", "/", "~")) or reference.count("/") != 1:
        raise FileNotFoundError(f"llaso-release: {reference} is not a folder (nor a hub id owner/name)")
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(reference))


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.exists():
        raise ReleaseFormatError(f"{folder}: no config.json (not a LLaSO release checkpoint)")
    config = json.loads(path.read_text())
    missing = [k for k in ("mm_audio_tower", "hidden_size", "vocab_size") if k not in config]
    if missing:
        raise ReleaseFormatError(f"{path}: not the authors' llava_llama layout (no {', '.join(missing)})")
    kind = config.get("audio_projector_type", "linear")
    if kind != "mlp2x_gelu":
        raise ReleaseFormatError(f"{path}: audio_projector_type {kind!r} is not supported (only mlp2x_gelu)")
    return config


def tower_folder(folder: Path, config: dict[str, Any], override: str | None) -> str:
    """The Whisper folder (config + feature extractor): the option, $LLASO_AUDIO_TOWER, a converted
    checkpoint's own ``audio_tower/``, the config's ``mm_audio_tower`` if it exists here, else the hub's
    whisper-large-v3 (what the authors used)."""
    for candidate in (override, os.environ.get(AUDIO_TOWER_ENV), folder / "audio_tower", config["mm_audio_tower"]):
        if candidate and Path(candidate).is_dir():
            return str(candidate)
    if override:
        raise FileNotFoundError(f"llaso-release: audio_tower {override} is not a folder")
    return WHISPER_LARGE_V3


def load_state(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor of the checkpoint: safetensors shards, or pytorch_model*.bin as the trainer saves."""
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if files:
        return {k: v for f in files for k, v in load_file(f).items()}
    files = sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise ReleaseFormatError(f"{folder}: no *.safetensors or pytorch_model*.bin weights")
    return {k: v for f in files for k, v in torch.load(f, map_location="cpu", weights_only=True).items()}


@contextlib.contextmanager
def building(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """Modules built inside are created on ``device`` in ``dtype`` (no float32 copy of a 3B model in RAM)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with device:
            yield
    finally:
        torch.set_default_dtype(previous)


def build_modules(folder: Path, config: dict[str, Any], tower: str):
    """(Llama causal LM, Whisper encoder, aligner, Whisper feature extractor) with the checkpoint's weights;
    call it inside :func:`building` to create them on the target device and dtype."""
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperModel,
    )
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    state = load_state(folder)
    llm = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in config.items() if k not in ("model_type", "architectures")}))
    if (folder / "generation_config.json").exists():  # the EOS ids generation stops on, as from_pretrained reads them
        llm.generation_config = GenerationConfig.from_pretrained(folder)
    llm_state = {k: v for k, v in state.items() if not k.startswith(("model.audio_tower.", "model.mm_audio_aligner."))}
    if "lm_head.weight" not in llm_state and config.get("tie_word_embeddings"):
        llm_state["lm_head.weight"] = llm_state["model.embed_tokens.weight"]
    _load(llm, llm_state, folder, "Llama")
    tower_state = {k[len(TOWER_PREFIX):]: v for k, v in state.items() if k.startswith(TOWER_PREFIX)}
    if tower_state:
        encoder = WhisperEncoder(WhisperConfig.from_pretrained(tower))
        _load(encoder, tower_state, folder, "audio tower")
    else:  # stage-1 style checkpoint without the frozen tower: Whisper's own weights, as the authors load them
        encoder = WhisperModel.from_pretrained(tower).encoder
    width = config.get("mm_audio_hidden_size", encoder.config.d_model)
    aligner = nn.Sequential(nn.Linear(width, config["hidden_size"]), nn.GELU(),
                            nn.Linear(config["hidden_size"], config["hidden_size"]))
    _load(aligner, {k[len(ALIGNER_PREFIX):]: v for k, v in state.items() if k.startswith(ALIGNER_PREFIX)}, folder,
          "audio aligner")
    return llm, encoder, aligner, WhisperFeatureExtractor.from_pretrained(tower)


def _load(module: nn.Module, state: dict[str, torch.Tensor], folder: Path, part: str) -> None:
    missing, unexpected = module.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise ReleaseFormatError(f"{folder}: the {part} weights do not match the authors' layout "
                                 f"(missing {missing[:3]}, unexpected {unexpected[:3]})")


def load(reference: str, **options: Any) -> ReleaseModel:
    return ReleaseModel(reference, **options)


def convert(source: str, out: Path, *, audio_tower: str | None = None) -> Path:
    """Write a self-contained copy of a release checkpoint: the same config keys and tensor names in one
    safetensors file, the Whisper config and feature extractor under ``audio_tower/``, the tokenizer, and
    ``llaso_model.json`` so ``--model OUT`` finds the kind."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, WhisperConfig, WhisperFeatureExtractor

    folder = resolve_folder(source)
    config = read_config(folder)
    tower = tower_folder(folder, config, audio_tower)
    state = load_state(folder)
    out.mkdir(parents=True, exist_ok=True)
    if not any(k.startswith(TOWER_PREFIX) for k in state):  # make the copy independent of the Whisper folder
        from transformers import WhisperModel

        state.update({TOWER_PREFIX + k: v for k, v in WhisperModel.from_pretrained(tower).encoder.state_dict().items()})
    save_file({k: v.contiguous() for k, v in state.items()}, str(out / "model.safetensors"),
              metadata={"format": "pt"})
    WhisperConfig.from_pretrained(tower).save_pretrained(out / "audio_tower")
    WhisperFeatureExtractor.from_pretrained(tower).save_pretrained(out / "audio_tower")
    AutoTokenizer.from_pretrained(folder).save_pretrained(out)
    if (folder / "generation_config.json").exists():  # the EOS ids generation stops on
        shutil.copy(folder / "generation_config.json", out / "generation_config.json")
    (out / "config.json").write_text(json.dumps({**config, "mm_audio_tower": "audio_tower"}, indent=2) + "\n")
    (out / MODEL_MARKER).write_text(json.dumps({"kind": "llaso-release", "source": source,
                                                "llaso_version": __version__}, indent=2) + "\n")
    return out
