"""Tiny random-initialised transformers audio LMs saved to a folder, processors built locally.

Each family gets a byte-level BPE tokenizer carrying its audio tokens, a WhisperFeatureExtractor
(128 mel bins), the chat template its hub repository ships (audio content parts render as the
family's placeholders, in order), and a model config a few thousand parameters wide.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tests.models.conftest import TEXTS

QWEN2_AUDIO_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' or 'audio' in content or 'audio_url' in content %}"
    "{% set audio_count.value = audio_count.value + 1 %}Audio {{ audio_count.value }}: "
    "<|audio_bos|><|AUDIO|><|audio_eos|>\n{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
AF3_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}<sound>{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

FAMILIES = {
    "qwen2_audio": ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"],
    "audioflamingo3": ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<sound>"],
}


def tokenizer(specials: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(TEXTS + ["You are a helpful assistant. Audio 1: 2: 3:"], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=specials[3:],
                                   model_input_names=["input_ids", "attention_mask"])


def write_tiny(family: str, folder: Path, seed: int = 0) -> Path:
    from transformers import WhisperFeatureExtractor

    torch.manual_seed(seed)
    tok = tokenizer(FAMILIES[family])
    features = WhisperFeatureExtractor(feature_size=128)
    text = dict(model_type="qwen2", vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, initializer_range=0.5,
                eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    audio = dict(d_model=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32, num_mel_bins=128,
                 max_source_positions=1500)
    if family == "qwen2_audio":
        from transformers import (Qwen2AudioConfig, Qwen2AudioForConditionalGeneration as Model,
                                  Qwen2AudioProcessor as Processor)

        config = Qwen2AudioConfig(audio_config=audio, text_config=text,
                                  audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"))
        processor = Processor(feature_extractor=features, tokenizer=tok, chat_template=QWEN2_AUDIO_TEMPLATE)
    else:
        from transformers import (AudioFlamingo3Config, AudioFlamingo3ForConditionalGeneration as Model,
                                  AudioFlamingo3Processor as Processor)

        config = AudioFlamingo3Config(audio_config=audio, text_config=text,
                                      audio_token_id=tok.convert_tokens_to_ids("<sound>"))
        processor = Processor(feature_extractor=features, tokenizer=tok, chat_template=AF3_TEMPLATE)
    config.eos_token_id, config.pad_token_id = tok.eos_token_id, tok.pad_token_id
    model = Model(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
