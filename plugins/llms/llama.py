"""Llama-3.x-Instruct (3.2-3B by default) from a local path or a hub id."""

from __future__ import annotations

from llaso_core.model.llm import LLMBundle, ensure_chat_tokens


def build(checkpoint: str | None = "meta-llama/Llama-3.2-3B-Instruct", *, config: dict | None = None,
          tokenizer=None, dtype: str = "auto", attn_implementation: str = "sdpa",
          **_: object) -> LLMBundle:
    """Load ``checkpoint``; with ``config`` (a LlamaConfig dict) build random weights at that shape
    instead, using ``tokenizer`` (a tokenizer, or a path or id) for the vocabulary."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if config is not None:
        model = LlamaForCausalLM(LlamaConfig(**config))
        tok = tokenizer if hasattr(tokenizer, "encode") else AutoTokenizer.from_pretrained(tokenizer or checkpoint)
        model.resize_token_embeddings(max(len(tok), model.config.vocab_size))
    else:
        model = LlamaForCausalLM.from_pretrained(
            checkpoint, dtype=getattr(torch, dtype) if dtype != "auto" else "auto",
            attn_implementation=attn_implementation)
        tok = AutoTokenizer.from_pretrained(tokenizer or checkpoint)
    ensure_chat_tokens(tok, model)
    return LLMBundle(model, tok, {"config": model.config.to_dict()})
