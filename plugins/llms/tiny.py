"""A small random-initialised Llama for tests and the CPU default, with a byte-level BPE tokenizer
trained locally (``tokenizers``) on the run's own texts; both are saved with the checkpoint."""

from __future__ import annotations

from typing import Iterable

from llaso_core.chat import LLASO_CHAT
from llaso_core.model.llm import LLMBundle, ensure_chat_tokens

LLAMA3_TOKENS = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
#: 8 heads of 24 dims: on the CPU preset it picks from the offered labels more reliably than 4 of 48,
#: at the same size and speed (benchmarks/README.md, cpu_learning.py)
DEFAULT_ARCHITECTURE = dict(hidden_size=192, intermediate_size=512, num_hidden_layers=2, num_attention_heads=8,
                            num_key_value_heads=8, max_position_embeddings=2048, tie_word_embeddings=True)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """A byte-level BPE over ``texts`` (any string stays encodable) carrying the chat tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = [*LLAMA3_TOKENS, *LLASO_CHAT.special_tokens, "<pad>"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
                                   pad_token="<pad>", additional_special_tokens=list(LLASO_CHAT.special_tokens))


def build(checkpoint: str | None = None, *, texts: Iterable[str] | None = None, vocab_size: int = 1024,
          config: dict | None = None, tokenizer=None, **_: object) -> LLMBundle:
    """From ``checkpoint`` (a transformers folder) or fresh: a Llama with ``config`` (defaults: 2 layers,
    192 wide) and ``tokenizer``, or a tokenizer trained on ``texts``."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if checkpoint is not None:
        model = LlamaForCausalLM.from_pretrained(checkpoint)
        return LLMBundle(model, AutoTokenizer.from_pretrained(checkpoint), {"config": model.config.to_dict()})
    if tokenizer is None:
        if texts is None:
            raise ValueError("the tiny LLM needs texts to train its tokenizer on (or a tokenizer, or a checkpoint)")
        tokenizer = train_tokenizer(texts, vocab_size)
    architecture = {**DEFAULT_ARCHITECTURE, **(config or {})}
    for key in ("vocab_size", "bos_token_id", "eos_token_id", "pad_token_id"):
        architecture.pop(key, None)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                                         **architecture))
    ensure_chat_tokens(tokenizer, model)
    return LLMBundle(model, tokenizer, {"config": architecture})
