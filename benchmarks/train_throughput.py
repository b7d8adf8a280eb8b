#!/usr/bin/env python
"""Training throughput: the LLaSO reference recipe against llaso's, same model and data, one process.

Variants (each: the same synthetic clips, the same number of optimizer steps):

(a) reference: every clip padded to 30 s (Whisper ``pad30``) and all 1500 encoder frames spliced
    into the LLM, gradient checkpointing on the LLM, logits over the full vocabulary at every
    position and then masked (``reference_loss`` below), plain random batches.
(b) llaso: only the clip's frames (``trim``), no gradient checkpointing, logits at supervised
    positions only (``LSLM.forward``), length-grouped batches (``GroupedBatches``), the prompt
    prefix all rows share (system prompt, user header) run once per micro-batch
    (``Batch.shared_prefix``; ``--no-share-prefix`` to measure without it).
(c) llaso with cached encoder frames (``Batch.audio_frames``): the frozen encoder is run once
    beforehand (its time is printed, not counted in the step time).

Stages: ``align`` (projector trains; encoder and LLM frozen) and ``instruct`` (projector + LLM).
Data loading (log-mel features) happens outside the timed region, as it runs in data-loader
workers in training. Numbers: samples/s, LLM tokens/s (non-pad positions the LLM runs, audio
included), supervised tokens/s, and ratios against (a).

Shapes: ``small`` (default, CPU, ~1-2 min): a random Whisper-like encoder (4 layers, d=256, 128
mels), a random Llama (4 layers, d=512, vocab 4096: its lm_head is then ~15% of the body, as
Llama-3.2-3B's 128k-vocabulary head is of its 2.8B body), clips of 10 +- 3 s of noise; 2 clips
per step, 2 timed steps per variant and stage.
``llaso-base``: Whisper-large-v3's encoder config and Llama-3.2-3B's config (random weights, tiny
tokenizer, vocab 128256), bf16 autocast with bf16 frozen weights, sdpa attention; prints a
model-FLOPs utilisation estimate 6 x P x T / time / peak, with P the LLM + projector parameters
and T the LLM positions processed (``--peak-tflops``, default 989 = H100 bf16 dense).

    python benchmarks/train_throughput.py
    python benchmarks/train_throughput.py --shapes llaso-base --stage both --micro-batch 8 --steps 5

At llaso-base shapes the instruct stage keeps fp32 weights, gradients and AdamW state for the 3.2B
trainable parameters (~51 GB) on one GPU; with (a)'s full-vocabulary logits a micro-batch of 8 needs
more than 80 GB (H200), so use ``--micro-batch 4`` on an H100. A variant that runs out of memory is
reported as such and the others still run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHAPES = {
    "small": {
        "encoder": dict(d_model=256, encoder_layers=4, encoder_attention_heads=4, encoder_ffn_dim=1024,
                        num_mel_bins=128, max_source_positions=1500),
        "llm": dict(hidden_size=512, num_hidden_layers=4, num_attention_heads=8, num_key_value_heads=8,
                    intermediate_size=1408, vocab_size=4096, max_position_embeddings=4096,
                    tie_word_embeddings=True),
        "projector_hidden": None,
    },
    "llaso-base": {  # Whisper-large-v3 encoder, Llama-3.2-3B(-Instruct)
        "encoder": dict(d_model=1280, encoder_layers=32, encoder_attention_heads=20, encoder_ffn_dim=5120,
                        num_mel_bins=128, max_source_positions=1500),
        "llm": dict(hidden_size=3072, num_hidden_layers=28, num_attention_heads=24, num_key_value_heads=8,
                    intermediate_size=8192, vocab_size=128256, max_position_embeddings=8192, rope_theta=500000.0,
                    tie_word_embeddings=True, rms_norm_eps=1e-5),
        "projector_hidden": 3072,
    },
}
INSTRUCTION = "Transcribe the audio into text."
WORDS = ("the quick brown fox jumps over a lazy dog while seven bright stars shine above quiet hills near "
         "an old river").split()


# -- the reference recipe's loss ------------------------------------------------------------------
def reference_loss(model, batch) -> tuple[torch.Tensor, int]:
    """LLaVA/HF-style: logits over the full vocabulary at every position, shifted, then masked with
    -100 labels (what ``LlamaForCausalLM(labels=...)`` does). Returns the summed loss like ``LSLM``."""
    hidden = model.llm.get_decoder()(inputs_embeds=model.embed(batch), attention_mask=batch.attention_mask,
                                     position_ids=batch.position_ids).last_hidden_state
    logits = model.llm.get_output_embeddings()(hidden)  # [batch, time, vocab]
    labels = torch.full(batch.input_ids.shape, -100, dtype=torch.long, device=logits.device)
    labels[batch.loss_rows, batch.loss_cols + 1] = batch.loss_targets
    shift_logits = logits[:, :-1].float().reshape(-1, logits.shape[-1])
    loss = nn.functional.cross_entropy(shift_logits, labels[:, 1:].reshape(-1), ignore_index=-100, reduction="sum")
    return loss, batch.num_targets


# -- model and data ---------------------------------------------------------------------------------
def build_model(shapes: dict, length_mode: str, device: torch.device, texts: list[str]):
    from llaso_core.chat import LLASO_CHAT
    from llaso_core.model.lslm import LSLM, LSLMConfig
    from llaso_plugins.encoders.whisper import build as whisper
    from llaso_plugins.llms.llama import build as llama
    from llaso_plugins.llms.tiny import train_tokenizer

    tokenizer = train_tokenizer(texts + [LLASO_CHAT.system] * len(texts))  # as `llaso train` does
    with torch.device(device):
        encoder = whisper(None, config=shapes["encoder"], length_mode=length_mode)
        llm = llama(None, config={**shapes["llm"], "attn_implementation": "sdpa"}, tokenizer=tokenizer)
        model = LSLM(LSLMConfig(encoder="whisper", llm="llama", projector_hidden=shapes["projector_hidden"]),
                     encoder, llm)
    return model.to(device)


def synth_clips(n: int, seed: int, mean_s: float, spread_s: float) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    waves = [(rng.standard_normal(int(16000 * rng.uniform(mean_s - spread_s, mean_s + spread_s))) * 0.1)
             .astype(np.float32) for _ in range(n)]
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(15, 40)))) + "." for _ in range(n)]
    return waves, texts


def encode_samples(model, waves, texts, frames_of) -> list:
    from llaso_core.model.batching import encode
    from llaso_core.query import AudioRef, AudioSegment, Query, TextSegment

    out = []
    for i, (wave, text) in enumerate(zip(waves, texts)):
        query = Query("ta", (TextSegment(INSTRUCTION, "instruction"), AudioSegment(AudioRef(f"clip{i}.wav"), "input")))
        chat = model.chat.render(query, text)
        out.append(encode(f"s{i}", chat, model.tokenizer, [frames_of(len(wave))], audio_token_id=model.audio_token_id,
                          max_length=4096))
    return out


def random_batches(n: int, micro: int, seed: int) -> list[list[int]]:
    order = np.random.default_rng(seed).permutation(n).tolist()
    return [order[i:i + micro] for i in range(0, n, micro)]


def grouped_batches(lengths: list[int], micro: int) -> list[list[int]]:
    """``GroupedBatches`` with the whole pool as one global batch: sorted by length (longest first),
    cut into micro-batches (re-implemented: ``llaso_core.training.data`` needs soundfile)."""
    order = np.argsort(-np.asarray(lengths), kind="stable").tolist()
    return [order[i:i + micro] for i in range(0, len(order), micro)]


# -- timing ---------------------------------------------------------------------------------------
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def set_stage(model, stage: str, checkpointing: bool, dtype: torch.dtype | None):
    trainable = {"align": ("projector",), "instruct": ("projector", "llm")}[stage]
    for name in ("encoder", "llm", "projector"):
        module = getattr(model, name)
        module.requires_grad_(name in trainable)
        # frozen parts in the compute dtype (as DeepSpeed/HF keep them); trainable ones fp32 (autocast)
        module.to(dtype if (dtype is not None and name not in trainable) else torch.float32)
    model.train()
    model.encoder.eval()
    checkpointing_enable(model.llm, checkpointing)
    return [p for p in model.parameters() if p.requires_grad]


def checkpointing_enable(llm, on: bool) -> None:
    """Gradient checkpointing of every decoder layer (transformers' new or old name for it)."""
    if on:
        if hasattr(llm, "activation_checkpointing_enable"):
            llm.activation_checkpointing_enable({"use_reentrant": False})
        else:
            llm.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        llm.config.use_cache = False
    elif hasattr(llm, "activation_checkpointing_disable"):
        llm.activation_checkpointing_disable()
    else:
        llm.gradient_checkpointing_disable()


def run_variant(model, batches, stage: str, *, loss_fn, checkpointing: bool, device, dtype, warmup: int):
    params = set_stage(model, stage, checkpointing, dtype)
    optimizer = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0, **({"fused": True} if device.type == "cuda"
                                                                          else {}))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    stats = {"samples": 0, "llm_tokens": 0, "supervised": 0, "seconds": 0.0, "losses": []}
    for i, batch in enumerate(batches):
        batch = batch.to(device)
        if dtype is not None and batch.audio_frames is not None:
            batch.audio_frames = batch.audio_frames.to(dtype)
        if dtype is not None and batch.audio_features is not None:
            batch.audio_features = batch.audio_features.to(dtype)
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            loss_sum, n = loss_fn(model, batch)
        loss = loss_sum / max(n, 1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync(device)
        dt = time.perf_counter() - t0
        if i >= warmup:
            stats["seconds"] += dt
            stats["samples"] += len(batch.sample_ids)
            stats["llm_tokens"] += int(batch.attention_mask.sum())
            stats["supervised"] += n
            stats["losses"].append(float(loss.detach()))
    if device.type == "cuda":
        stats["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    checkpointing_enable(model.llm, False)
    del optimizer
    return stats


def call_model(model, batch):
    return model(batch)


def make_batches(model, encoded, order, *, waves=None, cached=None, share_prefix=False):
    from llaso_core.model.batching import collate
    from llaso_core.training.features import pad_frames

    batches = []
    for ids in order:
        if cached is not None:
            frames, _ = pad_frames([cached[i] for i in ids], cached[ids[0]].shape[1])
            batches.append(collate([encoded[i] for i in ids], pad_id=model.tokenizer.pad_token_id,
                                   cached_frames=frames, share_prefix=share_prefix))
        else:
            audio = model.encoder.featurizer([waves[i] for i in ids])
            batches.append(collate([encoded[i] for i in ids], pad_id=model.tokenizer.pad_token_id, audio=audio,
                                   share_prefix=share_prefix))
    return batches


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", choices=sorted(SHAPES), default="small")
    parser.add_argument("--stage", choices=("align", "instruct", "both"), default="both")
    parser.add_argument("--micro-batch", type=int, default=None, help="clips per step (default 2 small, 8 base)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per variant (default 2 small, 6 base)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--seconds", type=float, default=10.0, help="mean clip length (s)")
    parser.add_argument("--spread", type=float, default=3.0, help="clip lengths uniform in mean +- spread")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="peak dense bf16 TFLOP/s (H100: 989)")
    parser.add_argument("--variants", default="a,b,c", help="comma-separated subset of a,b,c")
    parser.add_argument("--ours-checkpointing", action="store_true", help="gradient checkpointing in (b)/(c) too")
    parser.add_argument("--share-prefix", action=argparse.BooleanOptionalAction, default=True,
                        help="(b)/(c) run the rows' shared prompt prefix once (llaso's default)")
    parser.add_argument("--dtype", choices=("auto", "fp32", "bf16"), default="auto",
                        help="compute dtype: auto = bf16 on a GPU that has it, else fp32")
    parser.add_argument("--repeat", type=int, default=1, help="run each stage's variants N times, keep the best "
                        "(a shared or noisy machine)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from llaso_core.training.features import encode_clips

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    big = args.shapes == "llaso-base"
    micro = args.micro_batch or (8 if big else 2)
    steps = args.steps or (6 if big else 2)
    if args.dtype == "auto":
        dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    else:
        dtype = torch.bfloat16 if args.dtype == "bf16" else None
    show_mfu = device.type == "cuda" or big
    torch.manual_seed(args.seed)
    if device.type == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    n = micro * (steps + args.warmup)
    waves, texts = synth_clips(n, args.seed, args.seconds, args.spread)
    shapes = SHAPES[args.shapes]
    t_build = time.perf_counter()
    model = build_model(shapes, "pad30", device, texts + [INSTRUCTION])
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}), "
          f"dtype {dtype or torch.float32}, shapes {args.shapes}, micro-batch {micro}, {steps} timed steps "
          f"(+{args.warmup} warm-up), clips {args.seconds:g}+-{args.spread:g} s; "
          f"attention {model.llm.config._attn_implementation}; built in {time.perf_counter() - t_build:.0f} s")
    n_llm = sum(p.numel() for p in model.llm.parameters()) + sum(p.numel() for p in model.projector.parameters())
    n_enc = sum(p.numel() for p in model.encoder.parameters())
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    print(f"parameters: encoder {n_enc / 1e6:.0f}M, LLM + projector {n_llm / 1e6:.0f}M")

    featurizer = model.encoder.featurizer
    ref_encoded = encode_samples(model, waves, texts, lambda samples: 1500)  # all 1500 frames spliced
    our_encoded = encode_samples(model, waves, texts, featurizer.num_frames)
    our_lengths = [len(e.input_ids) for e in our_encoded]
    rand = random_batches(n, micro, args.seed)
    grouped = grouped_batches(our_lengths, micro)
    wanted = set(args.variants.split(","))
    stages = ("align", "instruct") if args.stage == "both" else (args.stage,)

    cached = None
    if "c" in wanted:
        model.encoder.length_mode = "trim"
        model.encoder.featurizer = attrs_evolve(featurizer, length_mode="trim")
        if dtype is not None:
            model.encoder.to(dtype)
        sync(device)
        t0 = time.perf_counter()
        cached = []
        for ids in random_batches(n, micro, args.seed):
            cached_frames = encode_clips(model.encoder, [waves[i] for i in ids], device=device, dtype=dtype)
            cached += list(zip(ids, cached_frames))
        cached = [f for _, f in sorted(cached, key=lambda x: x[0])]
        sync(device)
        encode_s = time.perf_counter() - t0
        print(f"(c) encoder pass for the cache: {encode_s:.1f} s for {n} clips "
              f"({n / encode_s:.1f} clips/s, once for both stages and all epochs)")

    results = {}
    for stage in stages:
        for variant in [v for _ in range(args.repeat) for v in ("a", "b", "c")]:
            if variant not in wanted:
                continue
            mode = "pad30" if variant == "a" else "trim"
            model.encoder.length_mode = mode
            model.encoder.featurizer = attrs_evolve(featurizer, length_mode=mode)
            if variant == "a":
                batches = make_batches(model, ref_encoded, rand, waves=waves)
            elif variant == "b":
                batches = make_batches(model, our_encoded, grouped, waves=waves, share_prefix=args.share_prefix)
            else:
                batches = make_batches(model, our_encoded, grouped, cached=cached, share_prefix=args.share_prefix)
            try:
                stats = run_variant(model, batches, stage, loss_fn=reference_loss if variant == "a" else call_model,
                                    checkpointing=variant == "a" or args.ours_checkpointing, device=device,
                                    dtype=dtype, warmup=args.warmup)
            except torch.cuda.OutOfMemoryError:
                print(f"[{stage:8s}] {NAMES[variant]:56s} out of GPU memory (try a smaller --micro-batch)",
                      flush=True)
                model.zero_grad(set_to_none=True)
                continue
            finally:
                del batches
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            best = results.get((stage, variant))
            if best is None or stats["samples"] / stats["seconds"] > best["samples"] / best["seconds"]:
                results[(stage, variant)] = stats
    for (stage, variant), stats in results.items():
        report(stage, variant, stats, results.get((stage, "a")), n_llm, args.peak_tflops, show_mfu)
    if args.json:
        args.json.write_text(json.dumps({f"{s}/{v}": r for (s, v), r in results.items()}, indent=2) + "\n")
    return 0


NAMES = {"a": "(a) reference: pad30, GC, full logits, random batches",
         "b": "(b) llaso: trim, no GC, answer logits, grouped",
         "c": "(c) llaso + cached encoder frames"}


def report(stage, variant, stats, ref, n_llm, peak_tflops, show_mfu) -> None:
    s = stats["seconds"] or math.nan
    sps, tps, sup = stats["samples"] / s, stats["llm_tokens"] / s, stats["supervised"] / s
    line = (f"[{stage:8s}] {NAMES[variant]:56s} {sps:8.2f} samples/s {tps:10.0f} LLM tok/s "
            f"{sup:8.0f} sup tok/s")
    if ref is not None and variant != "a":
        line += f"  x{sps / (ref['samples'] / ref['seconds']):.2f} samples/s vs (a)"
    if show_mfu:
        mfu = 6 * n_llm * stats["llm_tokens"] / s / (peak_tflops * 1e12)
        line += f"  MFU~{100 * mfu:.0f}%"
    if "peak_gib" in stats:
        line += f"  peak {stats['peak_gib']:.0f} GiB"
    print(line, flush=True)


def attrs_evolve(featurizer, **changes):
    import attrs

    return attrs.evolve(featurizer, **changes)


if __name__ == "__main__":
    raise SystemExit(main())
