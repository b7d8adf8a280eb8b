"""Shared fixtures of the model-plugin tests: test audio, a small synthesised corpus, a tiny LLaSO
release checkpoint in the authors' layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from llaso_core.models import Request
from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment

LLAMA3 = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
RELEASE_ADDED = ["<unk>", "<Audio>", "</Audio>", "<audio_start>", "<audio_end>"]  # llaso/train/train.py adds these
TEXTS = ["What is the speaker's gender? Choose from: male, female.", "Transcribe the audio.",
         "Listen to the audio and respond accordingly.", "the quick brown fox jumps over the lazy dog",
         "A chat between a curious user and an artificial intelligence assistant."] * 20


def wave(seconds: float, seed: int = 0, rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(rate * seconds)) * 0.1).astype(np.float32)


def requests_of_each_modality() -> list[Request]:
    """ta, at and pa queries with their decoded audio (the pa one is over 30 s: two release slices)."""
    ta = Query("ta", (TextSegment("What is the speaker's gender? Choose from: male, female.", "instruction"),
                      AudioSegment(AudioRef("a.wav"), "input")))
    at = Query("at", (AudioSegment(AudioRef("q.wav"), "instruction"),
                      TextSegment("the quick brown fox jumps over the lazy dog", "input")))
    pa = Query("pa", (TextSegment("Listen to the audio and respond accordingly.", "cue"),
                      AudioSegment(AudioRef("p.wav"), "request")))
    return [Request("ta", ta, (wave(1.3, 1),), 8), Request("at", at, (wave(0.7, 2),), 8),
            Request("pa", pa, (wave(31.0, 3),), 8)]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The synthesised mini-corpus, two samples per task (ta and pa), in the train split."""
    from llaso_core.data.synth.corpus import synthesize_corpus

    root = tmp_path_factory.mktemp("corpus")
    synthesize_corpus(root, per_task=2, seed=0, workers=1, tasks=["SGC", "ASR", "AQA"])
    return root


def release_tokenizer():
    """A Llama-3-like tokenizer that adds BOS to every call, with the tokens the authors add."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=LLAMA3 + RELEASE_ADDED, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(TEXTS, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
                                   pad_token="<unk>", unk_token="<unk>",
                                   additional_special_tokens=["<Audio>", "</Audio>", "<audio_start>", "<audio_end>"])


def write_release_checkpoint(folder: Path, whisper: Path, *, select_layer: int = -2, seed: int = 0) -> Path:
    """A tiny LLaSO-Base in the authors' layout: the llava_llama config keys their
    ``initialize_audio_modules`` writes, tensors named as ``LlavaLlamaForCausalLM.save_pretrained``
    names them (Whisper under model.audio_tower.audio_tower, aligner under model.mm_audio_aligner.projector),
    the tokenizer, and a Whisper folder (config + feature extractor) at ``mm_audio_tower``."""
    from safetensors.torch import save_file
    from transformers import (LlamaConfig, LlamaForCausalLM, WhisperConfig, WhisperFeatureExtractor,
                              WhisperModel)

    torch.manual_seed(seed)
    whisper_config = WhisperConfig(d_model=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=32,
                                   decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=32,
                                   num_mel_bins=128, max_source_positions=1500, vocab_size=64,
                                   pad_token_id=1, bos_token_id=2, eos_token_id=3, decoder_start_token_id=4)
    whisper_config.save_pretrained(whisper)
    WhisperFeatureExtractor(feature_size=128).save_pretrained(whisper)
    tokenizer = release_tokenizer()
    llama = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
                        initializer_range=0.5, tie_word_embeddings=False,
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.convert_tokens_to_ids("<|eot_id|>"),
                        pad_token_id=tokenizer.pad_token_id)
    llm = LlamaForCausalLM(llama)
    encoder = WhisperModel(whisper_config).encoder
    with torch.no_grad():
        for p in encoder.parameters():
            p.normal_(0, 0.3)
    aligner = {"0.weight": torch.randn(32, 16) * 0.3, "0.bias": torch.randn(32) * 0.1,
               "2.weight": torch.randn(32, 32) * 0.3, "2.bias": torch.randn(32) * 0.1}
    state = {**llm.state_dict(),
             **{f"model.audio_tower.audio_tower.{k}": v for k, v in encoder.state_dict().items()},
             **{f"model.mm_audio_aligner.projector.{k}": v for k, v in aligner.items()}}
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    config = {**llama.to_dict(), "model_type": "llava_llama", "architectures": ["LlavaLlamaForCausalLM"],
              "mm_audio_tower": str(whisper), "use_mm_proj": True, "audio_projector_type": "mlp2x_gelu",
              "mm_audio_hidden_size": 16, "mm_audio_select_layer": select_layer,
              "mm_audio_select_feature": "patch", "local_files_only": True, "language": "English",
              "task": "transcribe"}
    (folder / "config.json").write_text(json.dumps(config, indent=2, default=str))
    (folder / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": llama.bos_token_id, "eos_token_id": llama.eos_token_id, "do_sample": True,
         "temperature": 0.6, "top_p": 0.9}))
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def release_checkpoint(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("release")
    return write_release_checkpoint(root / "LLaSO-Base-3.8B-Instruct", root / "whisper-large-v3")

