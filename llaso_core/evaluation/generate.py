"""Batched generation: length-sorted batches, left padding, KV cache, greedy by default.

Each query is rendered with the chat template (prompt only), its audio spliced into the audio slots
exactly as in training, and the LLM generates from the embeddings until ``<|eot_id|>``. The prompt
prefix every request of a batch shares (system prompt and user header) is prefilled once and its
KV cache repeated for the rows.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import attrs
import torch

from llaso_core.distributed import local_device
from llaso_core.model.batching import collate, encode
from llaso_core.model.kv_cache import growing_cache
from llaso_core.model.lslm import LSLM, cache_argument
from llaso_core.models.base import GenerationOptions, Request

__all__ = ["GenerationOptions", "Generator", "Request"]


class Generator:
    """Answers batches of requests with an LSLM on one device (the ``lslm`` model plugin's engine;
    ``SpeechModel.answer_all`` runs the batch loop)."""

    def __init__(self, model: LSLM, *, device: torch.device | str | None = None,
                 dtype: torch.dtype | None = None) -> None:
        device = torch.device(device) if device else local_device()  # cuda:LOCAL_RANK per rank
        if dtype is None and device.type == "cuda" and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        self.model = model.to(device=device, dtype=dtype or torch.float32).eval()
        self.device = device
        self.eot_id = model.tokenizer.convert_tokens_to_ids(model.chat.eot)

    def chat(self, request: Request):
        """The model's chat template, with the request's system prompt if it brings one."""
        chat = self.model.chat
        return chat if request.system is None else attrs.evolve(chat, system=request.system)

    def batches(self, requests: Sequence[Request], batch_size: int) -> Iterator[list[Request]]:
        """Requests grouped by token budget, then by prompt length (long first), ``batch_size`` at a time."""
        def cost(r: Request) -> tuple[int, int]:
            audio = sum(self.model.num_frames(len(w)) for w in r.waveforms)
            return r.max_new_tokens, audio + len(r.query.segments)

        ordered = sorted(requests, key=cost, reverse=True)
        for i in range(0, len(ordered), batch_size):
            yield ordered[i:i + batch_size]

    @torch.inference_mode()
    def generate_batch(self, batch: Sequence[Request], options: GenerationOptions = GenerationOptions(),
                       streamer=None) -> list[str]:
        model = self.model
        encoded = [encode(r.id, self.chat(r).render(r.query), model.tokenizer,
                          [model.num_frames(len(w)) for w in r.waveforms], audio_token_id=model.audio_token_id,
                          max_length=options.max_length) for r in batch]
        waves = [w for r in batch for w in r.waveforms]
        audio = model.encoder.extract(waves) if waves else None
        share = options.share_prefix and options.cache == "dynamic"
        tensors = collate(encoded, pad_id=model.tokenizer.pad_token_id, audio=audio, left_pad=True,
                          share_prefix=share).to(self.device)
        if tensors.audio_features is not None:
            tensors.audio_features = tensors.audio_features.to(next(model.parameters()).dtype)
        embeds = model.embed(tensors)
        if options.cache == "static":
            kv_cache = {"cache_implementation": "static"}
        else:
            cache = growing_cache()
            if tensors.shared_prefix:  # generation continues after the prefilled prefix (also in ``embeds``)
                cache = model.prefix_cache(embeds[:1, :tensors.shared_prefix], len(batch), cache)
            kv_cache = {cache_argument(model.llm): cache} if cache is not None else {}
        output = model.llm.generate(
            inputs_embeds=embeds, attention_mask=tensors.attention_mask, **kv_cache,
            max_new_tokens=max(r.max_new_tokens for r in batch), min_new_tokens=options.min_new_tokens or None,
            do_sample=options.do_sample,
            temperature=options.temperature if options.do_sample else None,
            top_p=options.top_p if options.do_sample else None, eos_token_id=self.eot_id,
            pad_token_id=model.tokenizer.pad_token_id, streamer=streamer)
        texts = []
        for row, request in zip(output, batch):
            tokens = row[: request.max_new_tokens].tolist()
            if self.eot_id in tokens:
                tokens = tokens[: tokens.index(self.eot_id)]
            texts.append(model.tokenizer.decode(tokens, skip_special_tokens=True).strip())
        return texts
