"""What an LLM plugin provides: a causal LM and a tokenizer that knows the chat layout's tokens."""

from __future__ import annotations

import attrs
from torch import nn

from llaso_core.chat import LLASO_CHAT, ChatTemplate


@attrs.define
class LLMBundle:
    """A decoder LM (a transformers ``PreTrainedModel`` with ``get_decoder`` and
    ``get_output_embeddings``), its tokenizer, and the options that rebuild it from a folder."""

    model: nn.Module
    tokenizer: object
    architecture: dict = attrs.Factory(dict)


def ensure_chat_tokens(tokenizer, model: nn.Module | None, chat: ChatTemplate = LLASO_CHAT) -> None:
    """Add ``<Audio>``, ``</Audio>``, the audio placeholder and a pad token as special tokens when
    missing, and grow the embeddings (new rows start at the mean of the existing ones)."""
    missing = [t for t in chat.special_tokens if t not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing}, replace_extra_special_tokens=False)
    if tokenizer.pad_token is None:
        tokenizer.add_special_tokens({"pad_token": "<|finetune_right_pad_id|>"
                                      if "<|finetune_right_pad_id|>" in tokenizer.get_vocab() else "<pad>"})
    if model is not None and model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer), mean_resizing=True)
