"""Batched vs one-at-a-time generation with the same model: samples/s and the ratio.

    python benchmarks/eval_throughput.py                 # tiny CPU model (CI scale)
    python benchmarks/eval_throughput.py --shapes llaso-base --device cuda   # Whisper-large-v3 + Llama-3.2-3B shapes

Both runs answer the same requests with the same number of new tokens (``min_new_tokens`` =
``max_new_tokens``), so the ratio measures batching (length-sorted batches, left padding, KV cache)
and nothing else. The untrained model's answers are meaningless; the speed is what is measured.

    python benchmarks/eval_throughput.py --adapters      # one line per model kind, tiny configurations

``--adapters`` puts every built-in model kind through the plugin interface (``load_model`` then
``answer_all``, as ``llaso eval`` does): lslm, llaso-release, hf (qwen2_audio and audioflamingo3),
and openai against a local server that takes ``--server-delay`` per request (batched there means
``concurrency`` requests in flight).
One line per answer length: prefill and encoder cost the same per sample in both modes, so the
ratio grows with the number of generated tokens (LLaSO-Eval's released answers average about 21
words; classification answers are one or two).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from llaso_core.chat import LLASO_CHAT
from llaso_core.evaluation.generate import GenerationOptions, Request
from llaso_core.loader import get_host
from llaso_core.model.llm import LLMBundle
from llaso_core.model.lslm import LSLM, LSLMConfig, build
from llaso_core.query import AudioRef, assemble
from llaso_plugins.models.lslm import LSLMModel

TEXTS = ["What is the speaker's gender? Choose from: male, female.", "Transcribe the audio.",
         "Which instrument family plays this note?", "the quick brown fox jumps over the lazy dog"] * 20
# as `llaso train` does, the tokenizer also learns the system prompt (~70 tokens, as with Llama-3's)
TOKENIZER_TEXTS = TEXTS + [LLASO_CHAT.system] * len(TEXTS)


def tiny_model() -> LSLM:
    return build(LSLMConfig(), texts=TOKENIZER_TEXTS)


def llaso_base_model() -> LSLM:
    from llaso_plugins.encoders.whisper import build as whisper
    from llaso_plugins.llms.tiny import train_tokenizer
    from transformers import LlamaConfig, LlamaForCausalLM

    encoder = whisper(config=dict(num_mel_bins=128, d_model=1280, encoder_layers=32, encoder_attention_heads=20,
                                  encoder_ffn_dim=5120, decoder_layers=1, decoder_attention_heads=20,
                                  decoder_ffn_dim=5120, max_source_positions=1500))
    tokenizer = train_tokenizer(TOKENIZER_TEXTS)
    config = LlamaConfig(vocab_size=128256, hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
                         num_attention_heads=24, num_key_value_heads=8, max_position_embeddings=8192,
                         tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id)
    return LSLM(LSLMConfig(encoder="whisper", llm="llama", projector_hidden=3072), encoder,
                LLMBundle(LlamaForCausalLM(config), tokenizer))


def requests(n: int, seconds: float, new_tokens: int, seed: int = 0) -> list[Request]:
    rng = np.random.default_rng(seed)
    ta = get_host().modalities.get("ta")
    out = []
    for i in range(n):
        clip = rng.standard_normal(int(16000 * max(0.5, rng.normal(seconds, seconds / 3)))).astype(np.float32) * 0.1
        query = assemble(ta, instruction=TEXTS[i % 4], input=AudioRef(f"clip{i}.wav"))
        out.append(Request(f"r{i}", query, (clip,), new_tokens))
    return out


def timed(lslm: LSLMModel, reqs: list[Request], batch_size: int, new_tokens: int, cache: str,
          share_prefix: bool = True) -> float:
    options = GenerationOptions(batch_size=batch_size, min_new_tokens=new_tokens, cache=cache,
                                share_prefix=share_prefix)
    start = time.perf_counter()
    lslm.answer_all(reqs, options)
    if lslm.generator.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def adapter_models(folder: Path, server_url: str, batch_size: int):
    """(label, model) for every built-in kind, on tiny configurations written under ``folder``."""
    from llaso_core.models import load_model
    from tests.models.conftest import write_release_checkpoint
    from tests.models.hf_fixtures import write_tiny

    tiny_model().save_pretrained(folder / "lslm")
    release = write_release_checkpoint(folder / "release", folder / "whisper-tiny")
    yield "lslm", load_model(str(folder / "lslm"), device="cpu")
    yield "llaso-release", load_model(f"llaso-release:{release}", device="cpu", max_new_tokens=None)
    for family in ("qwen2_audio", "audioflamingo3"):
        yield f"hf ({family})", load_model(f"hf:{write_tiny(family, folder / family)}", device="cpu")
    yield "openai (local server)", load_model(f"openai:bench@{server_url}", cache=None, concurrency=batch_size)


def measure_adapters(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tiny builders live with the tests
    from tests.models.audio_server import AudioChatServer

    new_tokens = args.new_tokens[0]
    reqs = requests(args.samples, args.seconds, new_tokens)
    batched_options = GenerationOptions(batch_size=args.batch_size, min_new_tokens=new_tokens)
    single_options = GenerationOptions(batch_size=1, min_new_tokens=new_tokens)
    print(f"{args.samples} samples, clips ~{args.seconds:g} s, {new_tokens} new tokens, batch {args.batch_size}, "
          f"server delay {args.server_delay * 1000:g} ms, torch threads {torch.get_num_threads()}")
    print(f"{'model kind':>22}  {'one at a time':>16}  {'batched':>16}  ratio")
    with tempfile.TemporaryDirectory() as tmp, AudioChatServer() as server:
        server.delay = args.server_delay
        for label, model in adapter_models(Path(tmp), server.base_url, args.batch_size):
            model.answer_all(reqs[:2], batched_options)  # warm-up
            times = []
            for options in (single_options, batched_options):
                start = time.perf_counter()
                model.answer_all(reqs, options)
                times.append(time.perf_counter() - start)
            model.close()
            single, batched = times
            print(f"{label:>22}  {args.samples / single:>10.2f} smp/s  {args.samples / batched:>10.2f} smp/s  "
                  f"{single / batched:5.2f}x{'' if model.batched else '  (not batched: one query per call)'}",
                  flush=True)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", choices=("tiny", "llaso-base"), default="tiny",
                        help="tiny (the CPU default model) or llaso-base (Whisper-large-v3 + Llama-3.2-3B configs)")
    parser.add_argument("--samples", type=positive, default=256, help="enough for length-sorted batches to be tight")
    parser.add_argument("--batch-size", type=positive, default=32, help="requests per batched generate call")
    parser.add_argument("--new-tokens", type=positive, nargs="+", default=[16, 64],
                        help="answer lengths to measure (one line each)")
    parser.add_argument("--seconds", type=float, default=4.0, help="mean clip length")
    parser.add_argument("--cache", choices=("dynamic", "static"), default="dynamic", help="KV cache kind")
    parser.add_argument("--share-prefix", action=argparse.BooleanOptionalAction, default=True,
                        help="prefill the batch's common prompt prefix once (what llaso eval does)")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    parser.add_argument("--adapters", action="store_true",
                        help="one line per model kind through the plugin interface (tiny configurations, CPU)")
    parser.add_argument("--server-delay", type=float, default=0.05, help="--adapters: seconds per openai request")
    args = parser.parse_args()
    torch.manual_seed(0)
    if args.adapters:
        measure_adapters(args)
        return
    model = tiny_model() if args.shapes == "tiny" else llaso_base_model()
    lslm = LSLMModel("benchmark", model=model, device=args.device)
    print(f"device {lslm.generator.device}, shapes {args.shapes}, {args.samples} samples, clips ~{args.seconds:g} s, "
          f"batch {args.batch_size}, {args.cache} KV cache, shared prefix {'on' if args.share_prefix else 'off'}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'new tokens':>10}  {'one at a time':>16}  {'batched':>16}  ratio")
    for new_tokens in args.new_tokens:
        reqs = requests(args.samples, args.seconds, new_tokens)
        timed(lslm, reqs[:4], args.batch_size, new_tokens, args.cache, args.share_prefix)  # warm-up
        batched = timed(lslm, reqs, args.batch_size, new_tokens, args.cache, args.share_prefix)
        single = timed(lslm, reqs, 1, new_tokens, args.cache, args.share_prefix)
        print(f"{new_tokens:>10}  {args.samples / single:>10.2f} smp/s  {args.samples / batched:>10.2f} smp/s  "
              f"{single / batched:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
