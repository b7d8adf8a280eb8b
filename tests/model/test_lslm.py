"""The LSLM: audio slots, loss masks, batch invariance, checkpoints, and the encoders' frame counts."""

import numpy as np
import pytest
import torch

from llaso_core.chat import LLASO_CHAT
from llaso_core.loader import get_host
from llaso_core.model.batching import IGNORE, SampleError, collate, encode
from llaso_core.model.lslm import LSLM, LSLMConfig, build
from llaso_core.query import AudioRef, assemble

TEXTS = ["What is the speaker's gender? male female", "Transcribe the audio please."] * 30


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build(LSLMConfig(), texts=TEXTS).eval()


def waves(*seconds, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(int(16000 * s)).astype(np.float32) * 0.1 for s in seconds]


def encoded(model, sample_id, wave, answer, max_length=2048):
    query = assemble(get_host().modalities.get("ta"), instruction="What is the speaker's gender?",
                     input=AudioRef("x.wav"))
    return encode(sample_id, LLASO_CHAT.render(query, answer), model.tokenizer, [model.num_frames(len(wave))],
                  audio_token_id=model.audio_token_id, max_length=max_length)


def test_audio_slots_and_answer_only_labels(model):
    [wave] = waves(1.5)
    e = encoded(model, "s", wave, "Female.")
    slots = [i for i, t in enumerate(e.input_ids) if t == model.audio_token_id]
    assert len(slots) == model.num_frames(len(wave)) == e.frames[0]
    assert slots == list(range(e.slot_starts[0], e.slot_starts[0] + e.frames[0]))
    supervised = [t for t in e.labels if t != IGNORE]
    assert model.tokenizer.decode(supervised) == "Female.<|eot_id|>"
    assert all(label == IGNORE for label in e.labels[: e.slot_starts[0] + e.frames[0]])


def test_truncation_rules(model):
    [wave] = waves(1.0)
    full = encoded(model, "s", wave, "Female. " * 40)
    cut = encoded(model, "s", wave, "Female. " * 40, max_length=len(full.input_ids) - 5)
    assert cut.truncated and any(label != IGNORE for label in cut.labels)
    prompt_only = len([l for l in full.labels if l == IGNORE])
    with pytest.raises(SampleError, match="answer would be truncated away"):
        encoded(model, "s-long", wave, "Female.", max_length=prompt_only - 3)


@pytest.mark.parametrize("stack", [1, 3])
def test_a_sample_scores_the_same_alone_and_in_a_padded_batch(model, stack):
    """With frame stacking too: 1 s gives 26 encoder frames, so the clip's last stacked position
    holds 2 real frames and 1 padded one (before masking: the neighbour's padding, 0.3 off)."""
    if stack > 1:
        torch.manual_seed(0)
        model = build(LSLMConfig(frame_stack=stack), texts=TEXTS).eval()
    w = waves(1.0, 2.7, seed=1)
    items = [encoded(model, f"s{i}", wave, ans) for i, (wave, ans) in enumerate(zip(w, ["Male.", "Female."]))]
    with torch.no_grad():
        batch = collate(items, pad_id=model.tokenizer.pad_token_id, audio=model.encoder.extract(w))
        together, n_together = model(batch)
        singles = [collate([it], pad_id=model.tokenizer.pad_token_id, audio=model.encoder.extract([wave]))
                   for it, wave in zip(items, w)]
        alone = [model(single) for single in singles]
        short = len(items[0].input_ids)
        torch.testing.assert_close(model.embed(batch)[0, :short], model.embed(singles[0])[0], rtol=1e-5, atol=1e-5)
    assert n_together == sum(n for _, n in alone)
    torch.testing.assert_close(together, sum(loss for loss, _ in alone), rtol=1e-4, atol=1e-4)


def test_checkpoint_round_trip(model, tmp_path):
    w = waves(1.2)
    batch = collate([encoded(model, "s", w[0], "Male.")], pad_id=model.tokenizer.pad_token_id,
                    audio=model.encoder.extract(w))
    model.save_pretrained(tmp_path / "ckpt")
    assert {p.name for p in (tmp_path / "ckpt").iterdir()} >= {"llaso_config.json", "model.safetensors", "tokenizer"}
    again = LSLM.from_pretrained(tmp_path / "ckpt").eval()
    with torch.no_grad():
        torch.testing.assert_close(model(batch)[0], again(batch)[0])
    with pytest.raises(FileNotFoundError, match="not a llaso checkpoint"):
        LSLM.from_pretrained(tmp_path)


@pytest.mark.parametrize("length_mode", ["trim", "pad30"])
def test_whisper_encoder_frames_match_their_count_and_ignore_batch_neighbours(length_mode):
    from llaso_plugins.encoders.whisper import build as whisper

    torch.manual_seed(0)
    encoder = whisper(config=dict(num_mel_bins=128, d_model=64, encoder_layers=2, encoder_attention_heads=4,
                                  encoder_ffn_dim=128, decoder_layers=1, decoder_attention_heads=4,
                                  decoder_ffn_dim=64, max_source_positions=1500), length_mode=length_mode).eval()
    short, long = waves(3.0, 7.2, seed=2)
    with torch.no_grad():
        frames, lengths = encoder(*encoder.extract([short, long]))
        alone, alone_lengths = encoder(*encoder.extract([short]))
    assert lengths.tolist() == [encoder.num_frames(len(short)), encoder.num_frames(len(long))] == [150, 360]
    assert frames.shape[1] == (1500 if length_mode == "pad30" else 360)
    torch.testing.assert_close(frames[0, :150], alone[0, :150], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_half_precision_whisper_encodes_float_features(dtype):
    """Whisper-large-v3 is published in fp16: a frozen encoder held in half precision takes the
    featurizer's float32 features as they come (no autocast), and agrees with its fp32 self."""
    from llaso_plugins.encoders.whisper import build as whisper

    torch.manual_seed(0)
    encoder = whisper(config=dict(num_mel_bins=80, d_model=64, encoder_layers=1, encoder_attention_heads=4,
                                  encoder_ffn_dim=128, decoder_layers=1, decoder_attention_heads=4,
                                  decoder_ffn_dim=64)).eval()
    features, lengths = encoder.extract(waves(1.5))
    with torch.no_grad():
        reference, _ = encoder(features, lengths)
        half, _ = encoder.to(dtype)(features, lengths)
    assert half.dtype == dtype
    torch.testing.assert_close(half.float(), reference, rtol=0.1, atol=0.1)


def test_frame_stacking_shortens_the_audio(model):
    torch.manual_seed(0)
    stacked = build(LSLMConfig(frame_stack=4), texts=TEXTS)
    assert stacked.num_frames(16000) == -(-model.num_frames(16000) // 4)


def test_stacking_sees_padded_frames_as_the_feature_cache_pads_them():
    """Frames past a clip's length (whatever the encoder left there) stack like the cache's zeros."""
    from llaso_core.model.projector import Projector

    torch.manual_seed(0)
    projector = Projector(8, 16, stack=3)
    frames, lengths = torch.randn(2, 9, 8), torch.tensor([7, 9])
    cached = frames.clone()
    cached[0, 7:] = 0
    out, out_lengths = projector(frames, lengths)
    torch.testing.assert_close(out, projector(cached, lengths)[0], rtol=0, atol=0)
    assert out_lengths.tolist() == [3, 3]


def test_per_sample_loss_weighs_short_and_long_answers_alike(model):
    w = waves(1.0, 1.0, seed=3)
    items = [encoded(model, "short", w[0], "Male."), encoded(model, "long", w[1], "Female. " * 20)]
    batch = collate(items, pad_id=model.tokenizer.pad_token_id, audio=model.encoder.extract(w))
    with torch.no_grad():
        total, samples = model(batch, per_sample=True)
        means = [model(collate([it], pad_id=model.tokenizer.pad_token_id, audio=model.encoder.extract([wave])))
                 for it, wave in zip(items, w)]
    assert samples == 2
    torch.testing.assert_close(total, sum(loss / n for loss, n in means), rtol=1e-4, atol=1e-4)


def test_whisper_trim_features_equal_the_30s_padded_ones_on_the_clip():
    """``trim`` featurises only up to the batch's longest clip; its frames must be Whisper's own."""
    from llaso_plugins.encoders.whisper import build as whisper

    encoder = whisper(config=dict(num_mel_bins=128, d_model=64, encoder_layers=1, encoder_attention_heads=4,
                                  encoder_ffn_dim=128, decoder_layers=1, decoder_attention_heads=4,
                                  decoder_ffn_dim=64, max_source_positions=1500))
    rng = np.random.default_rng(5)
    # a clip ending on a hop boundary (its last frame reaches past the end), odd lengths, one over 30 s
    clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (80000, 48077, 16000 * 2 + 13, 16000 * 31)]
    for batch in (clips[:1], clips[:3], clips):
        features, lengths = encoder.extract(batch)
        reference = encoder.featurizer.feature_extractor(batch, sampling_rate=16000, return_tensors="pt")
        for i, n in enumerate(lengths.tolist()):
            assert n == min(len(batch[i]) // 160, 3000)
            torch.testing.assert_close(features[i, :, :n], reference["input_features"][i, :, :n])
